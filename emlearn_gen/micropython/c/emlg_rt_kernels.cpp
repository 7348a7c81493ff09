// The C++ side of MicroPython's emlearn_gen_rt module: the runtime's loader
// (loader.hpp) behind a few C functions for the module's C wrapper
// (emlg_rt_module.c). A loaded model lives in memory the wrapper owns
// (emlg_rt_model_bytes of it, 8-byte aligned), as do the file and the scratch.
#include <stddef.h>
#include <stdint.h>

#include "emlearn_gen/loader.hpp"

namespace eg = emlearn_gen;

namespace {

const eg::loaded_model& model_of(const void* model) { return *static_cast<const eg::loaded_model*>(model); }

}  // namespace

extern "C" {

size_t emlg_loader_model_bytes(void) { return sizeof(eg::loaded_model); }

/// model_load into `model`; returns the status (0: loaded) and, where it
/// refused the file, the problem in words.
int emlg_loader_load(const void* buffer, size_t size, void* model, const char** problem) {
  eg::loaded_model* m = static_cast<eg::loaded_model*>(model);
  const eg::status s = eg::model_load(buffer, size, m);
  *problem = eg::file_problem_text(m->file.problem);
  return static_cast<int>(s);
}

uint32_t emlg_loader_n_features(const void* model) { return model_of(model).file.n_features; }

/// The output kind of entry point `id` (1 label, 2 outlier, 3 values, 4
/// indicator) and its width, or 0 where the model does not have it.
int emlg_loader_entry(const void* model, uint8_t id, uint32_t* width) {
  const eg::file_entry* e = eg::model_entry(model_of(model), static_cast<eg::entry_id>(id));
  if (e == NULL) return 0;
  *width = e->width;
  return e->kind;
}

size_t emlg_loader_scratch_bytes(const void* model, uint8_t id) {
  return eg::model_scratch_bytes(model_of(model), static_cast<eg::entry_id>(id));
}

int emlg_loader_run(const void* model, uint8_t id, const float* x, float* values, int32_t* ints, void* scratch,
                size_t scratch_bytes) {
  return static_cast<int>(
      eg::model_run(model_of(model), static_cast<eg::entry_id>(id), x, values, ints, scratch, scratch_bytes));
}

/// The file's metadata (JSON written by the host: class labels, ...), or NULL.
const void* emlg_loader_metadata(const void* model, uint32_t* size) {
  *size = model_of(model).file.metadata_size;
  return model_of(model).file.metadata;
}

}  // extern "C"
