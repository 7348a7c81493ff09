// Deterministic mutation test of the model-file loader: for each model file
// named on the command line, every mutant below is checked as
// model_file_check.hpp says (refused with a status, or loaded and run on
// every entry point it lists), under ASan and UBSan:
//   - each bit of the file flipped, one at a time (check() also tries each
//     with its CRC-32 made right, so the checks behind the CRC see it);
//   - each truncation;
//   - each 32-bit word of the header, entry records, fields and table
//     directory at 0, 1, 2^31 - 1 and 2^32 - 1.
// Prints "<file>: <n> mutants" per file, so that a caller can tell that
// every file was read and mutated; exits 2 on a file it cannot read or that
// is too short to hold a header. A sanitizer report or a trap ends the run,
// and names the mutant it was checking ("mutant: <file>: bit 3 of byte 120
// flipped"), so that it can be made again.
//
//   clang++ -std=c++11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
//       -I runtime/include tests/fuzz/mutate_model_files.cpp -o mutate_model_files
//   ./mutate_model_files model.emlg ...   (tests/test_fuzz_model_file.py writes the files)
#include <signal.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "model_file_check.hpp"

#if defined(__has_include)
#if __has_include(<sanitizer/common_interface_defs.h>)
#include <sanitizer/common_interface_defs.h>
#define EMLEARN_GEN_TESTS_DEATH_CALLBACK 1
#endif
#endif

namespace {

// The mutant being checked, for the report of a run that dies on it.
char current[512] = "";

void say_current() {
  const char prefix[] = "\nmutant: ";
  ssize_t ignored = write(2, prefix, sizeof prefix - 1u);
  ignored = write(2, current, strlen(current));
  ignored = write(2, "\n", 1u);
  (void)ignored;
}

// A trap (a loaded model refusing one of its entry points): name the
// mutant, then die of the signal as before. Crashes and sanitizer reports
// go through the sanitizers' own handlers and their death callback.
void on_signal(int sig) {
  say_current();
  signal(sig, SIG_DFL);
  raise(sig);
}

bool read_file(const char* path, std::vector<uint8_t>* out) {
  FILE* f = std::fopen(path, "rb");
  if (f == NULL) return false;
  uint8_t buffer[4096];
  size_t got;
  while ((got = std::fread(buffer, 1u, sizeof buffer, f)) > 0u) out->insert(out->end(), buffer, buffer + got);
  const bool ok = std::ferror(f) == 0;
  std::fclose(f);
  return ok;
}

void put_u32(std::vector<uint8_t>& bytes, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// End of the header, entry records, fields and table directory, from the
// counts in the header (docs/model-file.md), at most the file's size.
size_t records_end(const std::vector<uint8_t>& good) {
  namespace eg = emlearn_gen;
  const size_t end = eg::model_file_header_bytes + good[10] * eg::model_file_entry_bytes + good[11] * 4u +
                     good[12] * eg::model_file_table_bytes;
  return end < good.size() ? end : good.size();
}

size_t mutate_all(const char* path, const std::vector<uint8_t>& good) {
  size_t count = 0;
  std::vector<uint8_t> m = good;
  for (size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      m[byte] = static_cast<uint8_t>(good[byte] ^ (1u << bit));
      std::snprintf(current, sizeof current, "%s: bit %d of byte %zu flipped", path, bit, byte);
      model_file_check::check(m.data(), m.size());
      ++count;
    }
    m[byte] = good[byte];
  }
  for (size_t cut = 0; cut < good.size(); ++cut) {
    std::snprintf(current, sizeof current, "%s: its first %zu bytes", path, cut);
    model_file_check::check(good.data(), cut);
    ++count;
  }
  const uint32_t extremes[] = {0u, 1u, 0x7FFFFFFFu, 0xFFFFFFFFu};
  const size_t end = records_end(good);
  for (size_t at = 0; at + 4u <= end; at += 4u) {
    for (uint32_t v : extremes) {
      m = good;
      put_u32(m, at, v);
      std::snprintf(current, sizeof current, "%s: the 32-bit word at byte %zu set to %u", path, at, v);
      model_file_check::check(m.data(), m.size());
      ++count;
    }
  }
  return count;
}

}  // namespace

int main(int argc, char** argv) {
#if defined(EMLEARN_GEN_TESTS_DEATH_CALLBACK)
  __sanitizer_set_death_callback(say_current);
#endif
  const int traps[] = {SIGILL, SIGTRAP};
  for (int sig : traps) signal(sig, on_signal);
  for (int i = 1; i < argc; ++i) {
    std::vector<uint8_t> good;
    if (!read_file(argv[i], &good) || good.size() < emlearn_gen::model_file_header_bytes) {
      std::fprintf(stderr, "%s: cannot read a model file there\n", argv[i]);
      return 2;
    }
    std::printf("%s: %zu mutants\n", argv[i], mutate_all(argv[i], good));
    std::fflush(stdout);
  }
  return 0;
}
