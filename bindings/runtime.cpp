// pybind11 bindings of the emlearn-gen runtime: the host side of every model
// runs the very kernels a generated header runs, on the very tables it holds.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "emlearn_gen/common.hpp"
#include "emlearn_gen/tree_ensemble.hpp"

namespace py = pybind11;

namespace {

template <typename T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

const char* status_text(emlearn_gen::status s) {
  switch (s) {
    case emlearn_gen::status::ok: return "ok";
    case emlearn_gen::status::bad_argument: return "bad argument";
    case emlearn_gen::status::bad_table: return "inconsistent model table";
    case emlearn_gen::status::size_mismatch: return "table shorter than its layout";
  }
  return "unknown status";
}

// Copies a numpy table into memory that only this module can write.
template <typename T>
std::vector<T> owned_copy(const carray<T>& table) {
  return std::vector<T>(table.data(), table.data() + table.size());
}

// A packed tree ensemble held by Python. Owns copies of its tables, made and
// checked once at construction: the kernels check no bounds at run time, so
// tables that Python code could still write to (a numpy array, a buffer
// shared with another object) would let a later change make them read
// outside the tables.
template <typename Real>
class HostForest {
 public:
  HostForest(const carray<uint8_t>& nodes, const carray<float>& thresholds,
             const carray<Real>& leaves, const carray<uint8_t>& leaf_codes,
             const carray<uint8_t>& roots, uint32_t n_nodes, uint32_t n_leaves, uint32_t n_trees,
             uint32_t n_features, uint32_t leaf_width, uint8_t feature_bits, uint8_t ref_bits,
             uint8_t thr_bits, uint8_t root_bits, uint8_t value_bits, unsigned word_bits)
      : nodes_(owned_copy(nodes)),
        thresholds_(owned_copy(thresholds)),
        leaves_(owned_copy(leaves)),
        leaf_codes_(owned_copy(leaf_codes)),
        roots_(owned_copy(roots)),
        wide_(word_bits == 64) {
    if (word_bits != 32 && word_bits != 64) {
      throw std::invalid_argument("word_bits must be 32 or 64");
    }
    if (leaf_width == 0 || leaf_width > UINT16_MAX) {
      throw std::invalid_argument("leaf_width must be in 1..65535");
    }
    f_.nodes = nodes_.data();
    f_.thresholds = thresholds_.data();
    f_.leaves = leaves_.data();
    f_.leaf_codes = leaf_codes_.data();
    f_.roots = roots_.data();
    f_.n_nodes = n_nodes;
    f_.n_thresholds = static_cast<uint32_t>(thresholds_.size());
    f_.n_leaves = n_leaves;
    f_.n_values = static_cast<uint32_t>(leaves_.size());
    f_.value_bits = value_bits;
    f_.n_trees = n_trees;
    f_.n_features = n_features;
    f_.leaf_width = static_cast<uint16_t>(leaf_width);
    f_.feature_bits = feature_bits;
    f_.ref_bits = ref_bits;
    f_.thr_bits = thr_bits;
    f_.root_bits = root_bits;
    const emlearn_gen::status s =
        wide_ ? emlearn_gen::forest_validate<uint64_t>(f_, nodes_.size(), roots_.size(),
                                                         leaf_codes_.size())
              : emlearn_gen::forest_validate<uint32_t>(f_, nodes_.size(), roots_.size(),
                                                         leaf_codes_.size());
    if (s != emlearn_gen::status::ok) {
      throw std::invalid_argument(std::string("invalid packed forest: ") + status_text(s));
    }
  }

  // f_ points into this object's own tables: a copy would point into ours.
  HostForest(const HostForest&) = delete;
  HostForest& operator=(const HostForest&) = delete;

  // forest_mean for every row of X: shape (n_samples, leaf_width).
  py::array_t<Real> mean(carray<float> X) const {
    const py::ssize_t n = check_rows(X);
    py::array_t<Real> out({n, static_cast<py::ssize_t>(f_.leaf_width)});
    const float* x = X.data();
    Real* y = out.mutable_data();
    if (n > static_cast<py::ssize_t>(UINT32_MAX)) {
      throw std::invalid_argument("at most 2**32 - 1 rows per call");
    }
    {
      py::gil_scoped_release release;
      if (n == 1) {
        // One row: the header's own entry point.
        if (wide_) {
          emlearn_gen::forest_mean<uint64_t>(f_, x, y);
        } else {
          emlearn_gen::forest_mean<uint32_t>(f_, x, y);
        }
      } else if (wide_) {
        emlearn_gen::forest_mean_batch<uint64_t>(f_, x, static_cast<uint32_t>(n), y);
      } else {
        emlearn_gen::forest_mean_batch<uint32_t>(f_, x, static_cast<uint32_t>(n), y);
      }
    }
    return out;
  }

  // argmax of forest_mean for every row of X: the class index a generated
  // classifier's predict() returns.
  py::array_t<int32_t> argmax(carray<float> X) const {
    const py::array_t<Real> m = mean(std::move(X));
    const py::ssize_t n = m.shape(0);
    py::array_t<int32_t> out(n);
    const Real* src = m.data();
    int32_t* dst = out.mutable_data();
    for (py::ssize_t i = 0; i < n; ++i) {
      dst[i] = emlearn_gen::argmax(src + i * f_.leaf_width, f_.leaf_width);
    }
    return out;
  }

  // Leaf row reached in every tree: shape (n_samples, n_trees).
  py::array_t<uint32_t> apply(carray<float> X) const {
    const py::ssize_t n = check_rows(X);
    py::array_t<uint32_t> out({n, static_cast<py::ssize_t>(f_.n_trees)});
    const float* x = X.data();
    uint32_t* y = out.mutable_data();
    for (py::ssize_t i = 0; i < n; ++i) {
      for (uint32_t t = 0; t < f_.n_trees; ++t) {
        const float* row = x + i * f_.n_features;
        y[i * f_.n_trees + t] = wide_ ? emlearn_gen::forest_leaf<uint64_t>(f_, t, row)
                                      : emlearn_gen::forest_leaf<uint32_t>(f_, t, row);
      }
    }
    return out;
  }

  uint32_t n_features() const { return f_.n_features; }

 private:
  py::ssize_t check_rows(const carray<float>& X) const {
    if (X.ndim() != 2 || X.shape(1) != static_cast<py::ssize_t>(f_.n_features)) {
      throw std::invalid_argument("X must have shape (n_samples, " +
                                  std::to_string(f_.n_features) + ")");
    }
    return X.shape(0);
  }

  // Never resized after construction: f_ points into them.
  const std::vector<uint8_t> nodes_;
  const std::vector<float> thresholds_;
  const std::vector<Real> leaves_;
  const std::vector<uint8_t> leaf_codes_;
  const std::vector<uint8_t> roots_;
  emlearn_gen::forest<Real> f_{};
  bool wide_;
};

template <typename Real>
void bind_forest(py::module_& m, const char* name) {
  py::class_<HostForest<Real>>(m, name)
      .def(py::init<carray<uint8_t>, carray<float>, carray<Real>, carray<uint8_t>,
                    carray<uint8_t>, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint8_t,
                    uint8_t, uint8_t, uint8_t, uint8_t, unsigned>(),
           py::arg("nodes"), py::arg("thresholds"), py::arg("leaves"), py::arg("leaf_codes"),
           py::arg("roots"), py::arg("n_nodes"), py::arg("n_leaves"), py::arg("n_trees"),
           py::arg("n_features"), py::arg("leaf_width"), py::arg("feature_bits"),
           py::arg("ref_bits"), py::arg("thr_bits"), py::arg("root_bits"), py::arg("value_bits"),
           py::arg("word_bits"))
      .def("mean", &HostForest<Real>::mean, py::arg("X"))
      .def("argmax", &HostForest<Real>::argmax, py::arg("X"))
      .def("apply", &HostForest<Real>::apply, py::arg("X"))
      .def_property_readonly("n_features", &HostForest<Real>::n_features);
}

}  // namespace

PYBIND11_MODULE(_runtime, m) {
  m.doc() = "emlearn-gen runtime kernels, bound for host-side prediction";
  m.attr("VERSION_MAJOR") = EMLEARN_GEN_VERSION_MAJOR;
  m.attr("VERSION_MINOR") = EMLEARN_GEN_VERSION_MINOR;
  m.attr("VERSION_PATCH") = EMLEARN_GEN_VERSION_PATCH;
  m.attr("VERSION") = static_cast<long>(EMLEARN_GEN_VERSION);
  bind_forest<float>(m, "ForestFloat32");
  bind_forest<double>(m, "ForestFloat64");
}
