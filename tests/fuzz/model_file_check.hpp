// What the model-file drivers (fuzz_model_file.cpp, mutate_model_files.cpp)
// do with each candidate file: the loader must refuse it with a status or
// load it; a loaded model then runs every entry point the file lists on a
// few rows (zeros, NaN, infinities, a ramp, extremes) with the scratch
// model_scratch_bytes asks for. Built with ASan and UBSan, so a read outside
// the file, the scratch or the outputs, or undefined arithmetic, stops the
// run.
//
// Host test code, not runtime code: it may use the C++ library.
#ifndef EMLEARN_GEN_TESTS_MODEL_FILE_CHECK_HPP
#define EMLEARN_GEN_TESTS_MODEL_FILE_CHECK_HPP

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "emlearn_gen/loader.hpp"

namespace model_file_check {

namespace eg = emlearn_gen;

// Rows and outputs are the driver's own memory: a file may declare widths the
// driver cannot sensibly allocate. Such files still go through model_load.
const uint32_t max_driver_width = 1u << 16;

inline std::vector<float> row(uint32_t n, int kind) {
  std::vector<float> x(n == 0u ? 1u : n);
  for (uint32_t i = 0; i < x.size(); ++i) {
    const float ramp = static_cast<float>(i % 97u) * 0.37f - 3.0f;
    switch (kind) {
      case 0: x[i] = 0.0f; break;
      case 1: x[i] = std::numeric_limits<float>::quiet_NaN(); break;
      case 2: x[i] = (i % 2u) ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity(); break;
      case 3: x[i] = (i % 2u) ? std::numeric_limits<float>::max() : -std::numeric_limits<float>::max(); break;
      default: x[i] = ramp; break;
    }
  }
  return x;
}

inline void run(const uint8_t* file, size_t size) {
  eg::loaded_model model;
  if (eg::model_load(file, size, &model) != eg::status::ok) return;
  const uint32_t n_features = model.file.n_features;
  if (n_features > max_driver_width) return;
  for (uint8_t id = 1; id <= eg::entry_id_count; ++id) {
    const eg::entry_id which = static_cast<eg::entry_id>(id);
    const eg::file_entry* entry = eg::model_entry(model, which);
    if (entry == NULL || entry->width > max_driver_width) continue;
    const size_t need = eg::model_scratch_bytes(model, which);
    if (need > (size_t{1} << 26)) continue;
    std::vector<uint64_t> scratch(need / 8u + 1u);
    const size_t width = entry->width == 0u ? 1u : entry->width;  // exactly: ASan sees a write past them
    std::vector<float> values(width);
    std::vector<int32_t> ints(width);
    for (int kind = 0; kind < 5; ++kind) {
      const std::vector<float> x = row(n_features, kind);
      const eg::status s = eg::model_run(model, which, x.data(), values.data(), ints.data(), scratch.data(), need);
      if (s != eg::status::ok) __builtin_trap();  // a loaded model runs every entry point it lists
    }
  }
}



// Checks one candidate file, taken as it is and again with its CRC-32 made
// right.
inline void check(const uint8_t* data, size_t size) {
  // The loader takes 8-byte-aligned buffers (docs/model-file.md). malloc's
  // are, and under ASan a block is exactly `size` bytes long: any read past
  // the end of the file is reported.
  uint8_t* file = static_cast<uint8_t*>(std::malloc(size == 0u ? 1u : size));
  if (file == NULL) return;
  if (size > 0u) std::memcpy(file, data, size);
  run(file, size);
  // A hostile file carries a valid CRC (it guards against corruption, not
  // against an attacker), and a mutated file almost never does: load it
  // again with its CRC made right, so every later check is reached.
  if (size >= eg::model_file_header_bytes + eg::model_file_crc_bytes) {
    uint32_t total = 0;
    for (int i = 3; i >= 0; --i) total = (total << 8) | file[20 + i];
    if (total <= size && total % 4u == 0u && total >= eg::model_file_header_bytes + eg::model_file_crc_bytes) {
      const uint32_t body = total - eg::model_file_crc_bytes;
      const uint32_t crc = eg::crc32(file, body);
      for (int i = 0; i < 4; ++i) file[body + i] = static_cast<uint8_t>(crc >> (8 * i));
      run(file, size);
    }
  }
  std::free(file);
}

}  // namespace model_file_check

#endif  // EMLEARN_GEN_TESTS_MODEL_FILE_CHECK_HPP
