// The host side of every model family: tables plus a kernel.
//
// A family's kernel registers under a name (bindings/families/<family>.cpp)
// and is built from the model's tables and layout fields exactly as the
// packing code produced them; it then offers the entry points a generated
// header has, by name. Everything else (owning the tables, batching rows,
// releasing the GIL, shapes and dtypes of results) lives here, once.
#ifndef EMLEARN_GEN_BINDINGS_HOST_MODEL_HPP
#define EMLEARN_GEN_BINDINGS_HOST_MODEL_HPP

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "emlearn_gen/common.hpp"

namespace emlearn_gen_host {

namespace py = pybind11;

/// What an entry point writes per row: one int32 ("int": a class index or
/// +1/-1), or `width` values ("float": float32; "index": int32, host-only).
enum class output_kind { int_scalar, float_vector, int_vector };

output_kind parse_kind(const std::string& kind);
const char* kind_name(output_kind kind);

/// One entry point: runs on `n` rows of `X` (row-major, n_features floats
/// each) and writes n results (int32) or n * width values to `out`. Called
/// without the GIL: it must not touch Python objects.
typedef std::function<void(const float* X, size_t n, void* out)> entry_function;

/// The model's tables, copied out of the numpy arrays Python passed: the
/// kernel validates them once and nothing Python does later can change what
/// it reads. Each table is aligned for any element type.
class tables {
 public:
  explicit tables(const py::dict& arrays);

  /// Table `name` as elements of T, and its length in elements. Throws when
  /// it is missing or its numpy element size or kind is not T's.
  template <typename T>
  const T* get(const char* name, size_t* count);

  /// Throws when Python passed a table the kernel did not read: the
  /// Python layout and the kernel disagree.
  void check_all_used(const char* kernel) const;

 private:
  struct entry {
    std::vector<uint64_t> storage;  // 8-byte aligned
    size_t bytes;
    size_t itemsize;
    char kind;  // numpy kind: 'u', 'i', 'f'
  };
  const entry& find(const char* name, size_t itemsize, char kind);
  std::map<std::string, entry> tables_;
  std::set<std::string> used_;
};

/// The layout fields (widths, counts) as Python's packing wrote them.
class fields {
 public:
  explicit fields(const py::dict& values);
  /// Field `name`; throws when missing or above `max`.
  uint64_t get(const char* name, uint64_t max);
  void check_all_used(const char* kernel) const;

 private:
  std::map<std::string, uint64_t> values_;
  std::set<std::string> used_;
};

/// A family's kernel over one model's tables.
class kernel {
 public:
  virtual ~kernel() {}
  virtual uint32_t n_features() const = 0;
  /// The function for entry point `name` with this output, or throws
  /// std::invalid_argument when the kernel has no such entry point.
  virtual entry_function entry(const std::string& name, output_kind kind, uint32_t width) const = 0;
  /// entry() for rows that the caller has found to hold no NaN or infinity
  /// (run_array() scans every input): a kernel that scans rows for missing
  /// values itself may leave that out. The same results as entry()'s on
  /// such rows; by default entry()'s function.
  virtual entry_function entry_finite(const std::string& name, output_kind kind, uint32_t width) const {
    return entry(name, kind, width);
  }
};

typedef std::unique_ptr<kernel> (*kernel_factory)(tables& t, fields& f);

/// Registers a family's kernel under `name` (at load time of the module),
/// with the table-format version of its runtime header, which Python's
/// description of the family must name too.
struct kernel_registration {
  kernel_registration(const char* name, kernel_factory factory, int format);
};

/// The factory registered as `name`; throws std::invalid_argument if none.
kernel_factory find_kernel(const std::string& name);

/// {kernel name: table-format version} of the registered kernels.
std::map<std::string, int> kernel_formats();

/// Adds definitions to the module beyond the model kernels (the signal
/// kernels of bindings/signal/): each file registers one at load time, and
/// the module runs them in the order of their names.
typedef void (*module_definer)(py::module_& m);
struct module_part {
  module_part(const char* name, module_definer define);
};

/// Throws std::invalid_argument("<what>: <status text>") unless s is ok.
void check_status(emlearn_gen::status s, const std::string& what);

/// What a scan of float bits found: some value is NaN or infinite, some is
/// infinite. Decided on the bits, as the kernels decide NaN (is_missing).
struct non_finite_scan {
  bool nan_or_inf;
  bool inf;
};

/// Whether any of `count` floats is NaN or infinite: a magnitude of at
/// least 0x7F800000, which carries into bit 31 when 0x00800000 is added.
/// Only AND, add and OR, and no branch, so the compiler vectorises it with
/// baseline SSE2.
inline bool any_non_finite(const float* x, size_t count) {
  uint32_t non_finite = 0;
  for (size_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    non_finite |= (bits & 0x7FFFFFFFu) + 0x00800000u;
  }
  return (non_finite & 0x80000000u) != 0;
}

/// Scans `count` floats. Most inputs are finite: the one test of
/// any_non_finite() settles them, and only an input with NaN or infinity
/// is read again for infinities.
inline non_finite_scan scan_non_finite(const float* x, size_t count) {
  non_finite_scan found = {any_non_finite(x, count), false};
  if (!found.nan_or_inf) return found;
  uint32_t infinities = 0;
  for (size_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    infinities |= static_cast<uint32_t>((bits & 0x7FFFFFFFu) == 0x7F800000u);
  }
  found.inf = infinities != 0;
  return found;
}

/// Runs `fn` on each of n rows: the generic loop for kernels whose header
/// entry point takes one row.
template <typename Row>
entry_function per_row(uint32_t n_features, size_t out_stride, Row fn) {
  return [n_features, out_stride, fn](const float* X, size_t n, void* out) {
    for (size_t i = 0; i < n; ++i) {
      fn(X + i * n_features, static_cast<char*>(out) + i * out_stride);
    }
  };
}

template <typename T>
const T* tables::get(const char* name, size_t* count) {
  const char kind = std::is_floating_point<T>::value ? 'f' : (std::is_signed<T>::value ? 'i' : 'u');
  const entry& e = find(name, sizeof(T), kind);
  *count = e.bytes / sizeof(T);
  return reinterpret_cast<const T*>(e.storage.data());
}

}  // namespace emlearn_gen_host

#endif  // EMLEARN_GEN_BINDINGS_HOST_MODEL_HPP
