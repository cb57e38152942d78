# Cross-compiling for 64-bit Windows with Debian's mingw-w64 (posix threading model).
# Usage: cmake -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake ...
# The resulting .exe files link libgcc, libstdc++ and winpthread statically, so they run
# under Wine or on Windows without shipping the mingw runtime DLLs next to them.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(VMREPLAY_MINGW_TRIPLE x86_64-w64-mingw32)
# The -posix variants provide std::thread/std::mutex; the -win32 ones do not.
find_program(CMAKE_C_COMPILER NAMES ${VMREPLAY_MINGW_TRIPLE}-gcc-posix ${VMREPLAY_MINGW_TRIPLE}-gcc
             REQUIRED)
find_program(CMAKE_CXX_COMPILER NAMES ${VMREPLAY_MINGW_TRIPLE}-g++-posix ${VMREPLAY_MINGW_TRIPLE}-g++
             REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${VMREPLAY_MINGW_TRIPLE}-windres)
find_program(CMAKE_AR NAMES ${VMREPLAY_MINGW_TRIPLE}-gcc-ar-posix ${VMREPLAY_MINGW_TRIPLE}-ar)
find_program(CMAKE_RANLIB NAMES ${VMREPLAY_MINGW_TRIPLE}-gcc-ranlib-posix
             ${VMREPLAY_MINGW_TRIPLE}-ranlib)

set(CMAKE_FIND_ROOT_PATH /usr/${VMREPLAY_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# -static also pulls in libwinpthread statically (needed by the posix threading model).
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++")

# Run cross-built test programs through Wine when it is installed.
find_program(VMREPLAY_WINE64 NAMES wine64 PATHS /usr/lib/wine NO_DEFAULT_PATH)
if(NOT VMREPLAY_WINE64)
  find_program(VMREPLAY_WINE64 NAMES wine64 wine)
endif()
if(VMREPLAY_WINE64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${VMREPLAY_WINE64})
endif()
