# Man pages (help2man, when installed) and bash completion, generated at build time from the
# built programs' --help (cmake/cli_docs.sh), so they are the option definitions the CLI parses.
if(NOT TARGET vmrecord)
  return()
endif()
find_program(VMREPLAY_HELP2MAN help2man)
if(NOT VMREPLAY_HELP2MAN)
  message(STATUS "help2man not found: no man pages (bash completion still generated)")
endif()
set(VMREPLAY_CLI_DOCS ${PROJECT_BINARY_DIR}/cli_docs)
add_custom_command(
  OUTPUT ${VMREPLAY_CLI_DOCS}/vmreplay.bash
  COMMAND bash ${PROJECT_SOURCE_DIR}/cmake/cli_docs.sh $<TARGET_FILE:vmreplay>
          $<TARGET_FILE:vmrecord> ${VMREPLAY_CLI_DOCS}
  DEPENDS vmreplay vmrecord ${PROJECT_SOURCE_DIR}/cmake/cli_docs.sh
  COMMENT "man pages and bash completion from --help")
add_custom_target(vmreplay_cli_docs ALL DEPENDS ${VMREPLAY_CLI_DOCS}/vmreplay.bash)

if(VMREPLAY_HELP2MAN)
  install(DIRECTORY ${VMREPLAY_CLI_DOCS}/man1 DESTINATION ${CMAKE_INSTALL_MANDIR})
endif()
# bash-completion loads a command's file by the command's name: one file, under both names.
foreach(program vmreplay vmrecord)
  install(FILES ${VMREPLAY_CLI_DOCS}/vmreplay.bash
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ${program})
endforeach()
