# `cmake --install BUILD --prefix P`: the programs, the preload, the trace library with its
# headers as a CMake package (vmreplay::trace) and a pkg-config file, the plugin SDK headers,
# the example plugin, and docs. Paths follow GNUInstallDirs; targets install themselves next
# to their definitions (proto/, recorder/linux/, replayer/).
include(CMakePackageConfigHelpers)

set(VMREPLAY_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/vmreplay)

# The manager plugin SDK: header only.
add_library(vmreplay_sdk INTERFACE)
target_include_directories(vmreplay_sdk INTERFACE $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                                  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
set_target_properties(vmreplay_sdk PROPERTIES EXPORT_NAME sdk)
install(TARGETS vmreplay_sdk EXPORT vmreplayTargets)
install(DIRECTORY include/vmreplay DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING
        PATTERN "*.h")

install(EXPORT vmreplayTargets NAMESPACE vmreplay:: DESTINATION ${VMREPLAY_CMAKE_DIR})
configure_package_config_file(cmake/vmreplayConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/vmreplayConfig.cmake
                              INSTALL_DESTINATION ${VMREPLAY_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vmreplayConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vmreplayConfig.cmake
              ${PROJECT_BINARY_DIR}/vmreplayConfigVersion.cmake
        DESTINATION ${VMREPLAY_CMAKE_DIR})

# pkg-config, relocatable like the CMake package: the prefix relative to the .pc file.
file(RELATIVE_PATH VMREPLAY_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig
     ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" VMREPLAY_PC_TO_PREFIX "${VMREPLAY_PC_TO_PREFIX}")
configure_file(cmake/vmreplay.pc.in ${PROJECT_BINARY_DIR}/vmreplay.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/vmreplay.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES README.md proto/text_format.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Sample traces: the synthetic CLR profiles and the real .NET recordings (with the runtime's
# own figures, the .out files, for `vmreplay lift --clr --oracle`).
install(DIRECTORY traces/synth/ DESTINATION ${CMAKE_INSTALL_DATADIR}/vmreplay/traces/synth
        FILES_MATCHING PATTERN "*.pb")
install(DIRECTORY traces/clr/ DESTINATION ${CMAKE_INSTALL_DATADIR}/vmreplay/traces/clr
        FILES_MATCHING PATTERN "*.pb" PATTERN "*.out" PATTERN "README.md" PATTERN "workloads" EXCLUDE)
