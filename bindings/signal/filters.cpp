// Python binding of runtime/include/emlearn_gen/filters.hpp: streaming
// second-order-section and FIR filters (emlearn_gen.signal.filters wraps
// them). Each object owns its coefficients and its state; the Python layer
// checks the arguments and shapes them, this file checks them again so that
// no call can make the kernels read or write outside their buffers.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "../host_model.hpp"
#include "emlearn_gen/filters.hpp"

namespace emlearn_gen_host {
namespace {

typedef py::array_t<float, py::array::c_style | py::array::forcecast> float_array;

// A count that must fit the kernels' uint32_t sizes.
uint32_t checked_count(py::ssize_t n, const char* what) {
  if (n < 0 || static_cast<uint64_t>(n) > UINT32_MAX) {
    throw std::invalid_argument(std::string(what) + " does not fit in 32 bits");
  }
  return static_cast<uint32_t>(n);
}

// Samples of a (n_samples, n_channels) block; throws on another shape.
uint32_t block_samples(const float_array& x, uint32_t n_channels) {
  if (x.ndim() != 2 || static_cast<uint64_t>(x.shape(1)) != n_channels) {
    throw std::invalid_argument("a block must have shape (n_samples, " + std::to_string(n_channels) + ")");
  }
  return checked_count(x.shape(0), "the number of samples");
}

class sos_stream {
 public:
  sos_stream(const float_array& sos, uint32_t n_channels, const py::object& zi_unit) {
    if (sos.ndim() != 2 || sos.shape(1) != 6) {
      throw std::invalid_argument("sos must have shape (n_sections, 6)");
    }
    sos_.assign(sos.data(), sos.data() + sos.size());
    f_.sos = sos_.data();
    f_.n_sections = checked_count(sos.shape(0), "the number of sections");
    f_.n_channels = n_channels;
    check_status(emlearn_gen::sos_validate(f_, sos_.size()), "invalid second-order sections");
    if (!zi_unit.is_none()) {
      const float_array zi = zi_unit.cast<float_array>();
      if (zi.ndim() != 2 || static_cast<uint64_t>(zi.shape(0)) != f_.n_sections || zi.shape(1) != 2) {
        throw std::invalid_argument("zi_unit must have shape (n_sections, 2)");
      }
      zi_unit_.assign(zi.data(), zi.data() + zi.size());
    }
    state_.resize(emlearn_gen::sos_state_floats(f_.n_sections, n_channels));
    f_.sos = sos_.data();
    reset();
  }

  void reset() {
    emlearn_gen::sos_reset(f_, state_.data());
    primed_ = false;
  }

  py::array_t<float> update(const float_array& x) {
    const uint32_t n = block_samples(x, f_.n_channels);
    py::array_t<float> y({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(f_.n_channels)});
    if (n == 0u) {
      return y;
    }
    const float* in = x.data();
    float* out = y.mutable_data();
    {
      py::gil_scoped_release release;
      if (!primed_ && !zi_unit_.empty()) {
        emlearn_gen::sos_steady_state(f_, zi_unit_.data(), in, state_.data());
      }
      primed_ = true;
      check_kernel(emlearn_gen::sos_filter_block(f_, state_.data(), in, out, n));
    }
    return y;
  }

  // Each row a window of n_samples interleaved samples, filtered from a
  // fresh state (zero, or the steady state of its first sample).
  py::array_t<float> rows(const float_array& X) const {
    if (X.ndim() != 2 || X.shape(1) % f_.n_channels != 0) {
      throw std::invalid_argument("rows must have n_samples * n_channels columns");
    }
    const uint32_t n = checked_count(X.shape(1) / f_.n_channels, "the number of samples");
    const py::ssize_t n_rows = X.shape(0);
    py::array_t<float> Y({n_rows, X.shape(1)});
    const float* in = X.data();
    float* out = Y.mutable_data();
    {
      py::gil_scoped_release release;
      std::vector<float> state(state_.size());
      for (py::ssize_t r = 0; r < n_rows && n > 0u; ++r) {
        const float* row = in + r * X.shape(1);
        if (zi_unit_.empty()) {
          emlearn_gen::sos_reset(f_, state.data());
        } else {
          emlearn_gen::sos_steady_state(f_, zi_unit_.data(), row, state.data());
        }
        check_kernel(emlearn_gen::sos_filter_block(f_, state.data(), row, out + r * X.shape(1), n));
      }
    }
    return Y;
  }

  // scipy's zi/zf layout: (n_sections, 2, n_channels).
  py::array_t<float> get_state() const {
    py::array_t<float> out({static_cast<py::ssize_t>(f_.n_sections), static_cast<py::ssize_t>(2),
                            static_cast<py::ssize_t>(f_.n_channels)});
    std::copy(state_.begin(), state_.end(), out.mutable_data());
    return out;
  }

  void set_state(const float_array& zi) {
    if (zi.ndim() != 3 || static_cast<uint64_t>(zi.shape(0)) != f_.n_sections || zi.shape(1) != 2 ||
        static_cast<uint64_t>(zi.shape(2)) != f_.n_channels) {
      throw std::invalid_argument("the state must have shape (n_sections, 2, n_channels)");
    }
    std::copy(zi.data(), zi.data() + zi.size(), state_.begin());
    primed_ = true;  // an explicit state replaces the steady-state start
  }

 private:
  static void check_kernel(emlearn_gen::status s) {
    if (s != emlearn_gen::status::ok) throw std::logic_error("sos_filter_block refused its buffers");
  }
  std::vector<float> sos_;
  std::vector<float> zi_unit_;
  std::vector<float> state_;
  emlearn_gen::sos_filter f_{};
  bool primed_ = false;
};

class fir_stream {
 public:
  fir_stream(const float_array& taps, uint32_t n_channels, uint32_t decimation) {
    if (taps.ndim() != 1) {
      throw std::invalid_argument("taps must be one-dimensional");
    }
    taps_.assign(taps.data(), taps.data() + taps.size());
    f_.taps = taps_.data();
    f_.n_taps = checked_count(taps.size(), "the number of taps");
    f_.n_channels = n_channels;
    f_.decimation = decimation;
    check_status(emlearn_gen::fir_validate(f_, taps_.size()), "invalid FIR filter");
    history_.resize(emlearn_gen::fir_history_floats(f_.n_taps, n_channels));
    s_.history = history_.data();
    emlearn_gen::fir_reset(f_, &s_);
  }

  void reset() { emlearn_gen::fir_reset(f_, &s_); }

  py::array_t<float> update(const float_array& x) {
    const uint32_t n = block_samples(x, f_.n_channels);
    const uint32_t expected = emlearn_gen::fir_output_count(f_.decimation, s_.phase, n);
    py::array_t<float> y({static_cast<py::ssize_t>(expected), static_cast<py::ssize_t>(f_.n_channels)});
    uint32_t written = 0u;
    const float* in = x.data();
    float* result = y.mutable_data();
    {
      py::gil_scoped_release release;
      // At least one float so that an empty output still has a buffer.
      std::vector<float> out(static_cast<size_t>(expected) * f_.n_channels + 1u);
      check_kernel(emlearn_gen::fir_filter_block(f_, &s_, in, n, out.data(), &written));
      std::copy(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(written) * f_.n_channels, result);
    }
    if (written != expected) throw std::logic_error("fir_filter_block wrote an unexpected count");
    return y;
  }

  py::array_t<float> rows(const float_array& X) const {
    if (X.ndim() != 2 || X.shape(1) % f_.n_channels != 0) {
      throw std::invalid_argument("rows must have n_samples * n_channels columns");
    }
    const uint32_t n = checked_count(X.shape(1) / f_.n_channels, "the number of samples");
    const uint32_t kept = emlearn_gen::fir_output_count(f_.decimation, 0u, n);
    const py::ssize_t width = static_cast<py::ssize_t>(kept) * f_.n_channels;
    const py::ssize_t n_rows = X.shape(0);
    py::array_t<float> Y({n_rows, width});
    const float* in = X.data();
    float* out = Y.mutable_data();
    {
      py::gil_scoped_release release;
      std::vector<float> history(history_.size());
      emlearn_gen::fir_state s{history.data(), 0u, 0u};
      for (py::ssize_t r = 0; r < n_rows && n > 0u; ++r) {
        emlearn_gen::fir_reset(f_, &s);
        uint32_t written = 0u;
        check_kernel(emlearn_gen::fir_filter_block(f_, &s, in + r * X.shape(1), n, out + r * width, &written));
      }
    }
    return Y;
  }

  // (history ring as (n_taps, n_channels), ring slot of the newest sample,
  // stream position of the next sample modulo the decimation).
  py::tuple get_state() const {
    py::array_t<float> history({static_cast<py::ssize_t>(f_.n_taps), static_cast<py::ssize_t>(f_.n_channels)});
    std::copy(history_.begin(), history_.end(), history.mutable_data());
    return py::make_tuple(history, s_.newest, s_.phase);
  }

  uint32_t phase() const { return s_.phase; }

 private:
  static void check_kernel(emlearn_gen::status s) {
    if (s != emlearn_gen::status::ok) throw std::logic_error("fir_filter_block refused its buffers");
  }
  std::vector<float> taps_;
  std::vector<float> history_;
  emlearn_gen::fir_filter f_{};
  emlearn_gen::fir_state s_{};
};

void define_filters(py::module_& m) {
  py::class_<sos_stream>(m, "filters_sos",
                         "Second-order sections (runtime sos_filter_block) with their per-channel state.")
      .def(py::init<const float_array&, uint32_t, const py::object&>(), py::arg("sos"), py::arg("n_channels"),
           py::arg("zi_unit") = py::none())
      .def("reset", &sos_stream::reset)
      .def("update", &sos_stream::update, py::arg("x"))
      .def("rows", &sos_stream::rows, py::arg("X"))
      .def_property("state", &sos_stream::get_state, &sos_stream::set_state);
  py::class_<fir_stream>(m, "filters_fir", "An FIR filter with decimation (runtime fir_filter_block) and its state.")
      .def(py::init<const float_array&, uint32_t, uint32_t>(), py::arg("taps"), py::arg("n_channels"),
           py::arg("decimation"))
      .def("reset", &fir_stream::reset)
      .def("update", &fir_stream::update, py::arg("x"))
      .def("rows", &fir_stream::rows, py::arg("X"))
      .def_property_readonly("state", &fir_stream::get_state)
      .def_property_readonly("phase", &fir_stream::phase);
}

const module_part part("filters", &define_filters);

}  // namespace
}  // namespace emlearn_gen_host
