// pybind11 module emlearn_gen._runtime: the host side of every model runs the
// very kernels a generated header runs, on the very tables it holds.
//
// HostModel is generic: a family contributes a kernel (bindings/families/),
// registered by name, and this file owns the tables, the batching and the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "emlearn_gen/common.hpp"
#include "emlearn_gen/float64.hpp"
#include "emlearn_gen/math.hpp"
#include "host_model.hpp"

namespace py = pybind11;

namespace emlearn_gen_host {

output_kind parse_kind(const std::string& kind) {
  if (kind == "int") return output_kind::int_scalar;
  if (kind == "float") return output_kind::float_vector;
  if (kind == "index") return output_kind::int_vector;
  throw std::invalid_argument("unknown entry point output kind '" + kind + "'");
}

const char* kind_name(output_kind kind) {
  switch (kind) {
    case output_kind::int_scalar: return "int";
    case output_kind::float_vector: return "float";
    case output_kind::int_vector: return "index";
  }
  return "?";
}

namespace {

const char* status_text(emlearn_gen::status s) {
  switch (s) {
    case emlearn_gen::status::ok: return "ok";
    case emlearn_gen::status::bad_argument: return "bad argument";
    case emlearn_gen::status::bad_table: return "inconsistent model table";
    case emlearn_gen::status::size_mismatch: return "table shorter than its layout";
    case emlearn_gen::status::bad_file: return "damaged model file";
    case emlearn_gen::status::unsupported: return "model file not supported by this runtime";
  }
  return "unknown status";
}

struct registered {
  kernel_factory factory;
  int format;
};

// Function-local, so registrations from other translation units may run in
// any order.
std::map<std::string, registered>& registry() {
  static std::map<std::string, registered> kernels;
  return kernels;
}

}  // namespace

void check_status(emlearn_gen::status s, const std::string& what) {
  if (s != emlearn_gen::status::ok) {
    throw std::invalid_argument(what + ": " + status_text(s));
  }
}

kernel_registration::kernel_registration(const char* name, kernel_factory factory, int format) {
  registry()[name] = registered{factory, format};
}

namespace {
std::map<std::string, module_definer>& module_parts() {
  static std::map<std::string, module_definer> parts;
  return parts;
}
}  // namespace

module_part::module_part(const char* name, module_definer define) { module_parts()[name] = define; }

kernel_factory find_kernel(const std::string& name) {
  const auto it = registry().find(name);
  if (it == registry().end()) {
    throw std::invalid_argument("no kernel named '" + name + "' in this build of emlearn_gen._runtime");
  }
  return it->second.factory;
}

std::map<std::string, int> kernel_formats() {
  std::map<std::string, int> formats;
  for (const auto& item : registry()) formats[item.first] = item.second.format;
  return formats;
}

tables::tables(const py::dict& arrays) {
  for (const auto& item : arrays) {
    const std::string name = py::str(item.first);
    const py::array a = py::array::ensure(item.second, py::array::c_style);
    if (!a || a.ndim() != 1) {
      throw std::invalid_argument("table '" + name + "' must be a 1-D numpy array");
    }
    entry e;
    e.bytes = static_cast<size_t>(a.nbytes());
    e.itemsize = static_cast<size_t>(a.itemsize());
    e.kind = a.dtype().kind();
    e.storage.assign((e.bytes + 7) / 8, 0u);
    if (e.bytes) std::memcpy(e.storage.data(), a.data(), e.bytes);
    tables_.emplace(name, std::move(e));
  }
}

const tables::entry& tables::find(const char* name, size_t itemsize, char kind) {
  const auto it = tables_.find(name);
  if (it == tables_.end()) {
    throw std::invalid_argument(std::string("missing table '") + name + "'");
  }
  if (it->second.itemsize != itemsize || it->second.kind != kind) {
    throw std::invalid_argument(std::string("table '") + name + "' has elements of " +
                                std::to_string(it->second.itemsize) + " bytes of kind '" +
                                it->second.kind + "', the kernel reads " + std::to_string(itemsize) +
                                " bytes of kind '" + kind + "'");
  }
  used_.insert(name);
  return it->second;
}

void tables::check_all_used(const char* kernel) const {
  for (const auto& item : tables_) {
    if (!used_.count(item.first)) {
      throw std::invalid_argument(std::string("the ") + kernel + " kernel has no table '" + item.first + "'");
    }
  }
}

fields::fields(const py::dict& values) {
  for (const auto& item : values) {
    const std::string name = py::str(item.first);
    const py::int_ v = py::reinterpret_borrow<py::object>(item.second);
    if (v < py::int_(0)) {
      throw std::invalid_argument("layout field '" + name + "' is negative");
    }
    values_[name] = v.cast<uint64_t>();
  }
}

uint64_t fields::get(const char* name, uint64_t max) {
  const auto it = values_.find(name);
  if (it == values_.end()) {
    throw std::invalid_argument(std::string("missing layout field '") + name + "'");
  }
  if (it->second > max) {
    throw std::invalid_argument(std::string("layout field '") + name + "' = " +
                                std::to_string(it->second) + " exceeds " + std::to_string(max));
  }
  used_.insert(name);
  return it->second;
}

void fields::check_all_used(const char* kernel) const {
  for (const auto& item : values_) {
    if (!used_.count(item.first)) {
      throw std::invalid_argument(std::string("the ") + kernel + " kernel has no layout field '" +
                                  item.first + "'");
    }
  }
}

}  // namespace emlearn_gen_host

namespace {

using namespace emlearn_gen_host;

struct bound_entry {
  std::string name;
  output_kind kind;
  uint32_t width;
  uint32_t n_features;
  entry_function fn;
  entry_function finite_fn;  // fn for rows without NaN or infinity (kernel::entry_finite)
  // HostModel::one_call()'s form of run_array()'s result.
  bool one_call = false;
  bool allow_nan = false;
  py::object labels;
  bool widen = false;
  bool flat = false;
};

// A model held by Python: one family kernel over owned tables, with the
// entry points Python's description asked for.
class HostModel {
 public:
  HostModel(const std::string& kernel_name, const py::dict& table_arrays, const py::dict& field_values,
            const std::vector<std::tuple<std::string, std::string, uint32_t>>& entry_points)
      : tables_(table_arrays) {
    const kernel_factory factory = find_kernel(kernel_name);
    fields f(field_values);
    kernel_ = factory(tables_, f);
    tables_.check_all_used(kernel_name.c_str());
    f.check_all_used(kernel_name.c_str());
    for (const auto& ep : entry_points) {
      const std::string& name = std::get<0>(ep);
      const output_kind kind = parse_kind(std::get<1>(ep));
      const uint32_t width = std::get<2>(ep);
      if (width == 0 || (kind == output_kind::int_scalar && width != 1)) {
        throw std::invalid_argument("entry point '" + name + "': bad width");
      }
      bound_entry& e = entries_[name];
      e.name = name;
      e.kind = kind;
      e.width = width;
      e.n_features = kernel_->n_features();
      e.fn = kernel_->entry(name, kind, width);
      e.finite_fn = kernel_->entry_finite(name, kind, width);
    }
  }

  // The entry point `name` on every row of X: int32 (n,) or (n, width).
  // X is already checked (Python's check_X); `n_jobs` threads share the rows.
  py::array run(const std::string& name, const py::array_t<float, py::array::c_style | py::array::forcecast>& X,
                int n_jobs) const {
    const bound_entry& e = find_entry(name);
    const uint32_t n_features = kernel_->n_features();
    if (X.ndim() != 2 || X.shape(1) != static_cast<py::ssize_t>(n_features)) {
      throw std::invalid_argument("X must have shape (n_samples, " + std::to_string(n_features) + ")");
    }
    py::array out = allocate(e, X.shape(0));
    const float* x = X.data();
    void* y = out.mutable_data();
    {
      py::gil_scoped_release release;
      run_rows(e, x, static_cast<size_t>(X.shape(0)), y, n_jobs);
    }
    return out;
  }

  // run() for the common case in one call, checks included: X a 2-D,
  // C-contiguous, aligned float32 or float64 numpy array of n_features columns and at
  // least one row. float64 values are rounded to the nearest float32, as
  // numpy's astype does. Returns None, with no result, when X is any other
  // input or holds a value that scikit-learn refuses (NaN unless
  // `allow_nan`; infinity, also where rounding overflowed): Python's own
  // checks then convert it or word the error, so messages stay one place.
  //
  // The result comes in scikit-learn's dtype and shape, as one_call() set
  // it for the entry point, without a second array or call.
  py::object run_array(const std::string& name, const py::object& X, int n_jobs) const {
    const bound_entry& e = find_entry(name);
    if (!e.one_call) throw std::invalid_argument("entry point '" + name + "' has no one_call() form");
    const bool allow_nan = e.allow_nan;
    const py::object& labels = e.labels;
    const bool widen = e.widen;
    const bool flat = e.flat;
    const bool f32 = py::isinstance<py::array_t<float>>(X);
    if (!f32 && !py::isinstance<py::array_t<double>>(X)) return py::none();
    const py::array a = py::reinterpret_borrow<py::array>(X);
    const int layout = py::array::c_style | py::detail::npy_api::NPY_ARRAY_ALIGNED_;
    if (a.ndim() != 2 || a.shape(0) == 0 || a.shape(1) != static_cast<py::ssize_t>(kernel_->n_features()) ||
        (a.flags() & layout) != layout) {
      return py::none();
    }
    const size_t n = static_cast<size_t>(a.shape(0));
    const size_t count = n * kernel_->n_features();
    // Where the result is not run()'s own array, the kernel writes to a
    // buffer (4 bytes per value, int32 or float) and the result is made from it.
    const bool direct = labels.is_none() && !widen;
    py::array out;
    std::vector<uint32_t> buffer;
    if (direct) {
      out = allocate(e, a.shape(0));
    } else {
      buffer.resize(n * values_per_row(e));
    }
    void* y = direct ? out.mutable_data() : static_cast<void*>(buffer.data());
    bool accepted = false;
    {
      // A few rows take less time than handing the GIL over and back.
      std::unique_ptr<py::gil_scoped_release> release;
      if (count > gil_free_values) release.reset(new py::gil_scoped_release());
      accepted = run_checked(e, a.data(), f32, n, y, n_jobs, allow_nan);
    }
    if (!accepted) return py::none();
    if (!labels.is_none()) {
      return take(py::reinterpret_borrow<py::array>(labels), reinterpret_cast<const int32_t*>(buffer.data()), n);
    }
    if (widen) return widened(e, buffer.data(), n, flat);
    return std::move(out);
  }

  // What run_array() returns for entry point `name`, set once (a call
  // spends most of its time taking its arguments): with `labels` (a 1-D
  // C-contiguous array of any dtype but object, for an entry point of int
  // output), labels[index] for each row, in labels' dtype, as numpy's
  // labels.take(indices); else with `widen`, int64 for int output and
  // float64 for float output (exact: every float32 is a float64), shaped
  // (n * width,) with `flat`; else the raw int32 or float32 results of
  // run(). NaN is taken as missing with `allow_nan`, else refused.
  void one_call(const std::string& name, bool allow_nan, const py::object& labels, bool widen, bool flat) {
    find_entry(name);  // throws for a name the model does not have
    bound_entry& e = entries_[name];
    if (!labels.is_none()) check_labels(e, labels);
    if (labels.is_none() && widen && e.kind == output_kind::int_vector) {
      throw std::invalid_argument("entry point '" + name + "': index output is not widened");
    }
    e.one_call = true;
    e.allow_nan = allow_nan;
    e.labels = labels;
    e.widen = widen;
    e.flat = flat;
  }

  uint32_t n_features() const { return kernel_->n_features(); }

 private:
  const bound_entry& find_entry(const std::string& name) const {
    const auto it = entries_.find(name);
    if (it == entries_.end()) {
      throw std::invalid_argument("this model has no entry point '" + name + "'");
    }
    return it->second;
  }

  static void check_labels(const bound_entry& e, const py::object& labels) {
    if (e.kind != output_kind::int_scalar || !py::isinstance<py::array>(labels)) {
      throw std::invalid_argument("labels need an entry point of int output and a numpy array");
    }
    const py::array a = py::reinterpret_borrow<py::array>(labels);
    if (a.ndim() != 1 || a.dtype().kind() == 'O' || !(a.flags() & py::array::c_style)) {
      throw std::invalid_argument("labels must be a 1-D C-contiguous array of a dtype other than object");
    }
  }

  // Values an entry point writes per row (int32 or float each).
  static size_t values_per_row(const bound_entry& e) { return e.kind == output_kind::int_scalar ? 1u : e.width; }

  // Input values below which run_array keeps the GIL: handing it over and
  // back costs about as much as a prediction of a few rows.
  static constexpr size_t gil_free_values = 4096;

  // labels.take(index[0..n)): each element copied as bytes, whatever the dtype.
  static py::array take(const py::array& labels, const int32_t* index, size_t n) {
    py::array out(labels.dtype(), std::vector<py::ssize_t>{static_cast<py::ssize_t>(n)}, std::vector<py::ssize_t>{});
    const size_t itemsize = static_cast<size_t>(labels.itemsize());
    const size_t n_labels = static_cast<size_t>(labels.shape(0));
    for (size_t i = 0; i < n; ++i) {
      if (index[i] < 0 || static_cast<size_t>(index[i]) >= n_labels) {
        throw std::logic_error("the kernel returned class index " + std::to_string(index[i]) + " of " +
                               std::to_string(n_labels));
      }
    }
    const void* from = labels.data();
    void* to = out.mutable_data();
    // The common label sizes as typed copies; memcpy of a size known only
    // at run time costs a call per row.
    const bool aligned = (labels.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_) != 0;
    switch (aligned ? itemsize : 0u) {
      case 1: take_as<uint8_t>(from, index, n, to); break;
      case 2: take_as<uint16_t>(from, index, n, to); break;
      case 4: take_as<uint32_t>(from, index, n, to); break;
      case 8: take_as<uint64_t>(from, index, n, to); break;
      default:
        for (size_t i = 0; i < n; ++i) {
          std::memcpy(static_cast<char*>(to) + i * itemsize,
                      static_cast<const char*>(from) + static_cast<size_t>(index[i]) * itemsize, itemsize);
        }
    }
    return out;
  }

  // take() of elements of T's size, copied as T (both arrays aligned for it).
  template <typename T>
  static void take_as(const void* from, const int32_t* index, size_t n, void* to) {
    const T* labels = static_cast<const T*>(from);
    T* out = static_cast<T*>(to);
    for (size_t i = 0; i < n; ++i) out[i] = labels[index[i]];
  }

  // The results of n rows at `raw` as int64 (int output) or float64 (float
  // output), shape (n,) for int output, (n, width) for float output, or
  // (n * width,) with `flat`.
  static py::array widened(const bound_entry& e, const uint32_t* raw, size_t n, bool flat) {
    const py::ssize_t rows = static_cast<py::ssize_t>(n);
    const size_t count = n * values_per_row(e);
    if (e.kind == output_kind::int_scalar) {
      py::array_t<int64_t> out(rows);
      int64_t* to = out.mutable_data();
      for (size_t i = 0; i < count; ++i) to[i] = static_cast<int32_t>(raw[i]);
      return std::move(out);
    }
    if (e.kind != output_kind::float_vector) throw std::invalid_argument("widen needs an int or float entry point");
    py::array_t<double> out = flat ? py::array_t<double>(static_cast<py::ssize_t>(count))
                                   : py::array_t<double>({rows, static_cast<py::ssize_t>(e.width)});
    double* to = out.mutable_data();
    for (size_t i = 0; i < count; ++i) {
      float value;
      std::memcpy(&value, raw + i, sizeof value);
      to[i] = static_cast<double>(value);
    }
    return std::move(out);
  }

  static py::array allocate(const bound_entry& e, py::ssize_t n) {
    if (e.kind == output_kind::int_scalar) return py::array_t<int32_t>(n);
    if (e.kind == output_kind::int_vector) return py::array_t<int32_t>({n, static_cast<py::ssize_t>(e.width)});
    return py::array_t<float>({n, static_cast<py::ssize_t>(e.width)});
  }

  // Bytes an entry point writes per row.
  static size_t row_bytes(const bound_entry& e) { return values_per_row(e) * 4u; }

  // Runs e on n rows, split into contiguous parts over up to n_jobs
  // threads. Each row's result depends on that row only, so the split never
  // changes a result. Called without the GIL.
  static void run_rows(const bound_entry& e, const float* x, size_t n, void* y, int n_jobs) {
    const size_t n_features = e.n_features;
    const size_t stride = row_bytes(e);
    split_rows(n, n_jobs, [&e, x, y, n_features, stride](size_t start, size_t rows) {
      e.fn(x + start * n_features, rows, static_cast<char*>(y) + start * stride);
    });
  }

  // run_array()'s checks and run, a block of rows at a time: each block is
  // rounded from float64 (where X is float64) and scanned just before the
  // kernel runs it, so that the kernel reads it from cache. A block
  // without NaN or infinity (most) runs e.finite_fn, a block with NaN
  // e.fn. Returns false, having stopped every thread, at a block with a
  // value scikit-learn refuses (infinity; NaN unless allow_nan): the
  // results are then incomplete, and run_array() discards them.
  static bool run_checked(const bound_entry& e, const void* X, bool f32, size_t n, void* y, int n_jobs,
                          bool allow_nan) {
    const size_t n_features = e.n_features;
    const size_t stride = row_bytes(e);
    // About 256 KiB of rows (an L2 cache's share), and at least 512: each
    // call of the kernel has a start and an end to amortise.
    const size_t block = std::max<size_t>(512, (size_t(256) << 10) / (std::max<size_t>(1, n_features) * sizeof(float)));
    std::atomic<bool> refused(false);
    split_rows(n, n_jobs, [&](size_t start, size_t rows) {
      std::vector<float> converted(f32 ? 0u : std::min(block, rows) * n_features);
      for (size_t first = start; first < start + rows; first += block) {
        if (refused.load(std::memory_order_relaxed)) return;
        const size_t m = std::min(block, start + rows - first);
        const size_t count = m * n_features;
        const float* x = static_cast<const float*>(X) + first * n_features;
        if (!f32) {
          // As numpy's astype(np.float32): rounded to nearest.
          const double* source = static_cast<const double*>(X) + first * n_features;
          for (size_t i = 0; i < count; ++i) converted[i] = static_cast<float>(source[i]);
          x = converted.data();
        }
        const non_finite_scan found = scan_non_finite(x, count);
        if (found.inf || (found.nan_or_inf && !allow_nan)) {
          refused.store(true, std::memory_order_relaxed);
          return;
        }
        (found.nan_or_inf ? e.fn : e.finite_fn)(x, m, static_cast<char*>(y) + first * stride);
      }
    });
    return !refused.load();
  }

  // Calls part(start, rows) on contiguous parts of rows 0..n that together
  // cover them once, over up to n_jobs threads (this one alone for one
  // part), and rethrows the first exception a part threw.
  template <typename Part>
  static void split_rows(size_t n, int n_jobs, const Part& part) {
    // A thread costs tens of microseconds: give each at least a few hundred rows.
    const size_t min_rows = 256;
    size_t jobs = n_jobs > 1 ? static_cast<size_t>(n_jobs) : 1u;
    if (jobs > (n + min_rows - 1) / min_rows) jobs = (n + min_rows - 1) / min_rows;
    if (jobs <= 1) {
      part(0, n);
      return;
    }
    const size_t per_job = (n + jobs - 1) / jobs;
    std::vector<std::thread> threads;
    std::vector<std::exception_ptr> errors(jobs);
    for (size_t j = 0; j < jobs; ++j) {
      const size_t start = j * per_job;
      const size_t rows = start >= n ? 0 : (n - start < per_job ? n - start : per_job);
      if (!rows) break;
      threads.emplace_back([&part, &errors, j, start, rows] {
        try {
          part(start, rows);
        } catch (...) {
          errors[j] = std::current_exception();
        }
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& err : errors) {
      if (err) std::rethrow_exception(err);
    }
  }

  // The kernel points into these: they live as long as the model.
  tables tables_;
  std::unique_ptr<kernel> kernel_;
  std::map<std::string, bound_entry> entries_;
};

}  // namespace

PYBIND11_MODULE(_runtime, m) {
  m.doc() = "emlearn-gen runtime kernels, bound for host-side prediction";
  m.attr("VERSION_MAJOR") = EMLEARN_GEN_VERSION_MAJOR;
  m.attr("VERSION_MINOR") = EMLEARN_GEN_VERSION_MINOR;
  m.attr("VERSION_PATCH") = EMLEARN_GEN_VERSION_PATCH;
  m.attr("VERSION") = static_cast<long>(EMLEARN_GEN_VERSION);
  // The runtime's own math functions state their error bounds once, in
  // math.hpp; numeric contracts read them from here.
  m.attr("EXP_MAX_REL_ERROR") = static_cast<double>(emlearn_gen::exp_max_rel_error);
  m.attr("SIGMOID_MAX_REL_ERROR") = static_cast<double>(emlearn_gen::sigmoid_max_rel_error);
  m.attr("TANH_MAX_REL_ERROR") = static_cast<double>(emlearn_gen::tanh_max_rel_error);
  m.attr("LOG_MAX_REL_ERROR") = static_cast<double>(emlearn_gen::log_max_rel_error);
  m.attr("EXP_R64_MAX_REL_ERROR") = emlearn_gen::exp_r64_max_rel_error;
  m.attr("SIGMOID_R64_MAX_REL_ERROR") = emlearn_gen::sigmoid_r64_max_rel_error;
  m.attr("TANH_R64_MAX_REL_ERROR") = emlearn_gen::tanh_r64_max_rel_error;
  m.def(
      "log_f",
      [](py::array_t<float, py::array::c_style | py::array::forcecast> values) {
        py::array_t<float> out(values.request().shape);
        const float* in = values.data();
        float* result = out.mutable_data();
        for (py::ssize_t i = 0; i < values.size(); ++i) {
          result[i] = emlearn_gen::log_f(in[i]);
        }
        return out;
      },
      py::arg("values"),
      "The runtime's log_f of each value (float32): the logarithms headers take of their "
      "probabilities, computed on the host as on devices.");
  m.def("kernel_formats", &kernel_formats,
        "{kernel name: table-format version} of the model-family kernels in this build.");
  py::class_<HostModel>(m, "HostModel")
      .def(py::init<const std::string&, const py::dict&, const py::dict&,
                    const std::vector<std::tuple<std::string, std::string, uint32_t>>&>(),
           py::arg("kernel"), py::arg("tables"), py::arg("fields"), py::arg("entry_points"))
      .def("run", &HostModel::run, py::arg("name"), py::arg("X"), py::arg("n_jobs") = 1)
      .def("one_call", &HostModel::one_call, py::arg("name"), py::arg("allow_nan"), py::arg("labels") = py::none(),
           py::arg("widen") = false, py::arg("flat") = false)
      .def("run_array", &HostModel::run_array)
      .def_property_readonly("n_features", &HostModel::n_features);
  for (const auto& part : module_parts()) part.second(m);
}
