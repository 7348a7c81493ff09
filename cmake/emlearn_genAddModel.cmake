# emlearn_gen_add_model(): generate a model header at build time from a saved
# scikit-learn model, with the emlearn-gen command line.
#
#   emlearn_gen_add_model(<target> MODEL <file> NAME <name>
#                         [STANDALONE] [DTYPE float32|float64]
#                         [OPTIONS <KEY=VALUE>...] [TRUST <type>...])
#
# Writes <name>.hpp into a folder of the build tree that is added to the
# include path of <target>, so its sources `#include "<name>.hpp"`. The
# header is regenerated when <file> changes. Without STANDALONE the target
# also links emlearn_gen::runtime when that target exists (keyword signature
# of target_link_libraries); a STANDALONE header needs nothing else.
#
# MODEL is a file written with skops (.skops) or joblib/pickle (.joblib,
# .pkl); loading a pickle runs code stored in it, so use files you trust.
#
# The command: the cache variable EMLEARN_GEN_COMMAND if set (a list, e.g.
# "/opt/venv/bin/emlearn-gen"); else `<Python_EXECUTABLE> -m emlearn_gen`
# when Python_EXECUTABLE (or Python3_EXECUTABLE) is set; else an
# `emlearn-gen` program on the PATH; else `python3 -m emlearn_gen`.

include_guard(GLOBAL)

function(_emlearn_gen_find_command out_var)
  if(EMLEARN_GEN_COMMAND)
    set(command ${EMLEARN_GEN_COMMAND})
  elseif(Python_EXECUTABLE)
    set(command "${Python_EXECUTABLE}" -m emlearn_gen)
  elseif(Python3_EXECUTABLE)
    set(command "${Python3_EXECUTABLE}" -m emlearn_gen)
  else()
    find_program(EMLEARN_GEN_EXECUTABLE emlearn-gen)
    if(EMLEARN_GEN_EXECUTABLE)
      set(command "${EMLEARN_GEN_EXECUTABLE}")
    else()
      find_package(Python3 COMPONENTS Interpreter)
      if(NOT Python3_Interpreter_FOUND)
        message(FATAL_ERROR
          "emlearn_gen_add_model: cannot find emlearn-gen: install it (pip install emlearn-gen) "
          "or set EMLEARN_GEN_COMMAND or Python_EXECUTABLE")
      endif()
      set(command "${Python3_EXECUTABLE}" -m emlearn_gen)
    endif()
  endif()
  # Check once per build tree that the command runs.
  string(SHA1 key "${command}")
  if(NOT _EMLEARN_GEN_CHECKED_${key})
    execute_process(
      COMMAND ${command} --version
      RESULT_VARIABLE result
      OUTPUT_VARIABLE output
      ERROR_VARIABLE error
      OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT result EQUAL 0)
      string(REPLACE ";" " " shown "${command}")
      message(FATAL_ERROR
        "emlearn_gen_add_model: `${shown} --version` failed (${result}): ${error}\n"
        "Install emlearn-gen for that interpreter, or set EMLEARN_GEN_COMMAND or Python_EXECUTABLE.")
    endif()
    message(STATUS "emlearn_gen_add_model: using ${output}")
    set(_EMLEARN_GEN_CHECKED_${key} TRUE CACHE INTERNAL "")
  endif()
  set(${out_var} ${command} PARENT_SCOPE)
endfunction()

function(emlearn_gen_add_model target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "STANDALONE" "MODEL;NAME;DTYPE" "OPTIONS;TRUST")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "emlearn_gen_add_model: unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "emlearn_gen_add_model: ${target} is not a target")
  endif()
  if(NOT ARG_MODEL OR NOT ARG_NAME)
    message(FATAL_ERROR "emlearn_gen_add_model: MODEL <file> and NAME <name> are required")
  endif()
  if(NOT ARG_NAME MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "emlearn_gen_add_model: NAME '${ARG_NAME}' is not a C++ identifier")
  endif()
  get_filename_component(model "${ARG_MODEL}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${model}")
    # A model that the build itself writes (add_custom_command OUTPUT) is fine.
    get_source_file_property(generated "${model}" GENERATED)
    if(NOT generated)
      message(FATAL_ERROR "emlearn_gen_add_model: MODEL ${model} does not exist")
    endif()
  endif()
  if(DEFINED ZEPHYR_BASE AND NOT CONFIG_EMLEARN_GEN AND NOT ARG_STANDALONE)
    message(FATAL_ERROR
      "emlearn_gen_add_model: set CONFIG_EMLEARN_GEN=y (prj.conf) for the runtime headers, "
      "or pass STANDALONE")
  endif()

  _emlearn_gen_find_command(command)
  set(folder "${CMAKE_CURRENT_BINARY_DIR}/emlearn_gen_models/${target}")
  set(header "${folder}/${ARG_NAME}.hpp")
  set(args convert "${model}" --name "${ARG_NAME}" -o "${header}")
  if(ARG_STANDALONE)
    list(APPEND args --standalone)
  endif()
  if(ARG_DTYPE)
    list(APPEND args --dtype "${ARG_DTYPE}")
  endif()
  foreach(option IN LISTS ARG_OPTIONS)
    list(APPEND args --option "${option}")
  endforeach()
  foreach(type IN LISTS ARG_TRUST)
    list(APPEND args --trust "${type}")
  endforeach()

  add_custom_command(
    OUTPUT "${header}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${folder}"
    COMMAND ${command} ${args}
    DEPENDS "${model}"
    COMMENT "emlearn-gen: ${ARG_NAME}.hpp from ${ARG_MODEL}"
    VERBATIM)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    if(CMAKE_VERSION VERSION_LESS 3.19)
      message(FATAL_ERROR "emlearn_gen_add_model: an INTERFACE library target needs CMake 3.19 or newer")
    endif()
    set(scope INTERFACE)
  else()
    set(scope PRIVATE)
  endif()
  add_custom_target(${target}_emlearn_gen_${ARG_NAME} DEPENDS "${header}")
  add_dependencies(${target} ${target}_emlearn_gen_${ARG_NAME})
  target_include_directories(${target} ${scope} "${folder}")
  if(NOT ARG_STANDALONE AND TARGET emlearn_gen::runtime)
    target_link_libraries(${target} ${scope} emlearn_gen::runtime)
  endif()
endfunction()
