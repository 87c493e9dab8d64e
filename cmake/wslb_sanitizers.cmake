# Sanitizer and fuzzing builds (docs/testing.md). Included at the end of the top-level
# CMakeLists.txt, once every target exists, so the flags reach every target the project builds
# (libraries, wslb, tests, benchmarks) without touching their definitions.
#
#   -DWSLB_SANITIZE=address,undefined   ASan + UBSan (GCC or clang)
#   -DWSLB_SANITIZE=thread              TSan
#   -DWSLB_FUZZ=ON                      libFuzzer targets in tests/fuzz/ (clang only); the
#                                       libraries get -fsanitize=fuzzer-no-link for coverage.
#
# Every sanitizer stops the process at the first report (-fno-sanitize-recover=all).

set(WSLB_SANITIZE "" CACHE STRING "Sanitizers for every target: address,undefined or thread")
option(WSLB_FUZZ "Build the libFuzzer targets in tests/fuzz (clang)" OFF)

set(wslb_san_compile)
set(wslb_san_link)
if(WSLB_SANITIZE)
  if(WSLB_SANITIZE MATCHES "thread" AND WSLB_SANITIZE MATCHES "address")
    message(FATAL_ERROR "WSLB_SANITIZE: thread and address cannot be combined")
  endif()
  list(APPEND wslb_san_compile -fsanitize=${WSLB_SANITIZE} -fno-omit-frame-pointer
       -fno-sanitize-recover=all)
  list(APPEND wslb_san_link -fsanitize=${WSLB_SANITIZE})
  if(WSLB_SANITIZE MATCHES "undefined" AND NOT WSLB_FUZZ)
    # UBSan's vptr check reads an object's vtable only after probing that memory with pipe(2);
    # in a process out of descriptors the probe fails and the check reports a valid object as
    # "invalid vptr" and stops it. wslb is run out of descriptors on purpose
    # (Overload.OutOfFileDescriptorsBacksOffAndRecovers), so that one check is left out; ASan
    # still catches use of destroyed objects. The fuzz build, which never runs out, keeps it.
    list(APPEND wslb_san_compile -fno-sanitize=vptr)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    if(WSLB_SANITIZE MATCHES "address")
      # GCC 12's flow analysis under ASan instrumentation reports maybe-uninitialized in Boost
      # and std::optional code it does not report without it, and mismatched-new-delete for
      # Asio's recycling allocator (operator new/delete overloads it cannot see through).
      list(APPEND wslb_san_compile -Wno-maybe-uninitialized -Wno-mismatched-new-delete)
    endif()
    if(WSLB_SANITIZE MATCHES "thread")
      # GCC warns that std::atomic_thread_fence is not instrumented by TSan; the fences in Asio
      # and our code pair with atomics that are. At -O1 (scripts/sanitize.sh) it also reports
      # mismatched-new-delete for Asio's coroutine frames, as under ASan (see above).
      list(APPEND wslb_san_compile -Wno-tsan -Wno-mismatched-new-delete)
      # The system protobuf and abseil libraries are built without TSan, but their headers
      # change class layouts when __SANITIZE_THREAD__ is defined (protobuf's MapFieldBase gains
      # two counters), so every proto with a map field (Metadata, Struct) is corrupted across the
      # library boundary: unit_xds_test crashed in TextFormat parsing. Undefining the macro keeps
      # the headers in step with the libraries; TSan instrumentation is unaffected.
      # _GLIBCXX_TSAN, which libstdc++ derives from the same macro (shared_ptr's race-detector
      # friendly release), is kept. Our own code tells TSan builds by WSLB_TSAN.
      list(APPEND wslb_san_compile -U__SANITIZE_THREAD__ -D_GLIBCXX_TSAN=1 -DWSLB_TSAN=1)
    endif()
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND WSLB_SANITIZE MATCHES "undefined")
    # clang 14 cannot compile C++20 coroutines (src/http/downstream_session.cc) with UBSan's
    # function-type check: "error in backend: Cannot represent a difference across sections"
    # (llvm/llvm-project#49689). Only that check (calls through a mismatched function pointer
    # type) is left out.
    list(APPEND wslb_san_compile -fno-sanitize=function)
    list(APPEND wslb_san_link -fno-sanitize=function)
  endif()
endif()

if(WSLB_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "WSLB_FUZZ needs clang (configure with CMAKE_CXX_COMPILER=clang++)")
  endif()
  list(APPEND wslb_san_compile -fsanitize=fuzzer-no-link)
endif()

# Every target defined in `dir` and the directories below it.
function(wslb_collect_targets dir out)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub ${subdirs})
    wslb_collect_targets(${sub} sub_targets)
    list(APPEND targets ${sub_targets})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

if(WSLB_FUZZ)
  add_subdirectory(${CMAKE_SOURCE_DIR}/tests/fuzz ${CMAKE_BINARY_DIR}/fuzz)
endif()

if(wslb_san_compile)
  message(STATUS "wslb: sanitizer flags ${wslb_san_compile}")
  wslb_collect_targets(${CMAKE_SOURCE_DIR} wslb_all_targets)
  foreach(target ${wslb_all_targets})
    get_target_property(type ${target} TYPE)
    if(type MATCHES "^(STATIC_LIBRARY|OBJECT_LIBRARY|SHARED_LIBRARY|MODULE_LIBRARY|EXECUTABLE)$")
      target_compile_options(${target} PRIVATE ${wslb_san_compile})
    endif()
    if(type MATCHES "^(SHARED_LIBRARY|MODULE_LIBRARY|EXECUTABLE)$" AND wslb_san_link)
      target_link_options(${target} PRIVATE ${wslb_san_link})
    endif()
  endforeach()
endif()
