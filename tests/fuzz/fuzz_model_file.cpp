// libFuzzer target of the model-file loader (runtime/include/emlearn_gen/loader.hpp).
//
// Every input is a candidate model file, checked as model_file_check.hpp
// says: refused with a status, or loaded and run on every entry point it
// lists. Built with ASan and UBSan; libFuzzer's -timeout catches a walk that
// never ends.
//
//   clang++ -std=c++11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
//       -I runtime/include tests/fuzz/fuzz_model_file.cpp -o fuzz_model_file
//   ./fuzz_model_file -max_total_time=600 corpus/   (tests/test_fuzz_model_file.py writes a corpus)
#include <cstddef>
#include <cstdint>

#include "model_file_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  model_file_check::check(data, size);
  return 0;
}
