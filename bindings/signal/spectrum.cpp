// Python bindings of the spectral kernels (runtime/include/emlearn_gen/fft.hpp
// and spectrum.hpp), used by emlearn_gen/signal/spectrum.py. Each function
// runs a kernel on every row of a 2-D float32 array, without the GIL.
// Arguments are checked here too (ValueError), though the Python classes
// check them first with friendlier messages.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "../host_model.hpp"
#include "emlearn_gen/fft.hpp"
#include "emlearn_gen/spectrum.hpp"

namespace emlearn_gen_host {
namespace {

typedef py::array_t<float, py::array::c_style | py::array::forcecast> floats;
typedef py::array_t<uint16_t, py::array::c_style | py::array::forcecast> uint16s;

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

/// Rows and columns of a 2-D array, or a ValueError naming `what`.
void shape_2d(const py::array& a, const char* what, py::ssize_t* rows, py::ssize_t* cols) {
  require(a.ndim() == 2, std::string(what) + " must be 2-D (rows, values)");
  *rows = a.shape(0);
  *cols = a.shape(1);
}

void require_length(uint32_t n) {
  require(emlearn_gen::fft_length_supported(n),
          "FFT length " + std::to_string(n) + " is not supported: its prime factors must be 2, 3 and 5");
}

/// rfft of each row (window, or None): (rows, n) -> (rows, n // 2 + 1, 2).
py::array_t<float> rfft_rows(const floats& x, const py::object& window_obj, const floats& twiddles) {
  py::ssize_t rows = 0, cols = 0;
  shape_2d(x, "x", &rows, &cols);
  const uint32_t n = static_cast<uint32_t>(cols);
  require_length(n);
  require(static_cast<size_t>(twiddles.size()) == emlearn_gen::rfft_twiddle_floats(n), "twiddles must hold 2n floats");
  floats window;
  const float* w = nullptr;
  if (!window_obj.is_none()) {
    window = floats::ensure(window_obj);
    require(window && static_cast<uint32_t>(window.size()) == n, "window must hold n floats");
    w = window.data();
  }
  const uint32_t bins = emlearn_gen::rfft_bins(n);
  py::array_t<float> out({rows, static_cast<py::ssize_t>(bins), static_cast<py::ssize_t>(2)});
  const float* px = x.data();
  const float* pt = twiddles.data();
  float* po = out.mutable_data();
  {
    py::gil_scoped_release release;
    std::vector<float> scratch(emlearn_gen::rfft_scratch_floats(n));
    for (py::ssize_t r = 0; r < rows; ++r) {
      emlearn_gen::rfft(px + r * n, n, w, pt, po + r * 2 * bins, scratch.data());
    }
  }
  return out;
}

/// spectrum() of each row: (rows, n) -> (rows, n // 2 + 1).
py::array_t<float> spectrum_rows(const floats& x, const py::object& window_obj, const floats& twiddles, int kind,
                                 float amin) {
  py::ssize_t rows = 0, cols = 0;
  shape_2d(x, "x", &rows, &cols);
  const uint32_t n = static_cast<uint32_t>(cols);
  require_length(n);
  require(static_cast<size_t>(twiddles.size()) == emlearn_gen::rfft_twiddle_floats(n), "twiddles must hold 2n floats");
  require(kind >= 0 && kind <= 2, "kind must be 0 (power), 1 (magnitude) or 2 (log_power)");
  require(amin > 0.0f, "amin must be positive");
  floats window;
  const float* w = nullptr;
  if (!window_obj.is_none()) {
    window = floats::ensure(window_obj);
    require(window && static_cast<uint32_t>(window.size()) == n, "window must hold n floats");
    w = window.data();
  }
  const uint32_t bins = emlearn_gen::rfft_bins(n);
  py::array_t<float> out({rows, static_cast<py::ssize_t>(bins)});
  const float* px = x.data();
  const float* pt = twiddles.data();
  float* po = out.mutable_data();
  const emlearn_gen::spectrum_kind k = static_cast<emlearn_gen::spectrum_kind>(kind);
  {
    py::gil_scoped_release release;
    std::vector<float> scratch(emlearn_gen::spectrum_scratch_floats(n));
    for (py::ssize_t r = 0; r < rows; ++r) {
      check_status(emlearn_gen::spectrum(px + r * n, n, w, pt, k, amin, po + r * bins, scratch.data()),
                   "spectrum");
    }
  }
  return out;
}

/// filterbank_energies() of each row of a spectrum: (rows, n_bins) ->
/// (rows, n_filters).
py::array_t<float> filterbank_rows(const floats& spectra, const uint16s& first_bin, const uint16s& offsets,
                                   const floats& weights, bool log, float amin) {
  py::ssize_t rows = 0, cols = 0;
  shape_2d(spectra, "spectra", &rows, &cols);
  require(first_bin.size() >= 1 && offsets.size() == first_bin.size() + 1,
          "offsets must hold one entry more than first_bin");
  require(cols <= 65535 && first_bin.size() <= 65535, "at most 65535 bins and filters");
  require(!log || amin > 0.0f, "amin must be positive");
  emlearn_gen::filterbank fb;
  fb.first_bin = first_bin.data();
  fb.offsets = offsets.data();
  fb.weights = weights.data();
  fb.n_filters = static_cast<uint16_t>(first_bin.size());
  fb.n_bins = static_cast<uint16_t>(cols);
  check_status(emlearn_gen::filterbank_validate(fb, static_cast<uint32_t>(weights.size())), "filterbank");
  py::array_t<float> out({rows, static_cast<py::ssize_t>(fb.n_filters)});
  const float* ps = spectra.data();
  float* po = out.mutable_data();
  {
    py::gil_scoped_release release;
    for (py::ssize_t r = 0; r < rows; ++r) {
      emlearn_gen::filterbank_energies(fb, ps + r * cols, log, amin, po + r * fb.n_filters);
    }
  }
  return out;
}

/// matrix_vector() of each row: (rows, n_in) -> (rows, n_out) with an
/// (n_out, n_in) matrix.
py::array_t<float> matrix_rows(const floats& x, const floats& matrix) {
  py::ssize_t rows = 0, cols = 0, n_out = 0, n_in = 0;
  shape_2d(x, "x", &rows, &cols);
  shape_2d(matrix, "matrix", &n_out, &n_in);
  require(n_in == cols, "the matrix must have as many columns as x");
  py::array_t<float> out({rows, n_out});
  const float* px = x.data();
  const float* pm = matrix.data();
  float* po = out.mutable_data();
  {
    py::gil_scoped_release release;
    for (py::ssize_t r = 0; r < rows; ++r) {
      emlearn_gen::matrix_vector(pm, px + r * cols, static_cast<uint32_t>(n_in), static_cast<uint32_t>(n_out),
                                 po + r * n_out);
    }
  }
  return out;
}

/// Spectral centroid and dominant frequency of each row of a spectrum:
/// (rows, n_bins) -> (rows, 2).
py::array_t<float> features_rows(const floats& spectra, float bin_hz) {
  py::ssize_t rows = 0, cols = 0;
  shape_2d(spectra, "spectra", &rows, &cols);
  require(cols >= 1, "a spectrum needs at least one bin");
  py::array_t<float> out({rows, static_cast<py::ssize_t>(2)});
  const float* ps = spectra.data();
  float* po = out.mutable_data();
  const uint32_t n_bins = static_cast<uint32_t>(cols);
  {
    py::gil_scoped_release release;
    for (py::ssize_t r = 0; r < rows; ++r) {
      po[2 * r] = emlearn_gen::spectral_centroid(ps + r * cols, n_bins, bin_hz);
      po[2 * r + 1] = emlearn_gen::dominant_frequency(ps + r * cols, n_bins, bin_hz);
    }
  }
  return out;
}

void define_spectrum(py::module_& m) {
  m.def("fft_length_supported", [](uint32_t n) { return emlearn_gen::fft_length_supported(n); }, py::arg("n"),
        "True if the runtime's rfft supports length n (prime factors 2, 3, 5 only).");
  m.def("fft_rfft", &rfft_rows, py::arg("x"), py::arg("window"), py::arg("twiddles"),
        "emlearn_gen::rfft of each row of x: (rows, n) -> (rows, n // 2 + 1, 2) float32 (real, imaginary).");
  m.def("spectrum_rows", &spectrum_rows, py::arg("x"), py::arg("window"), py::arg("twiddles"), py::arg("kind"),
        py::arg("amin"),
        "emlearn_gen::spectrum of each row of x: kind 0 power, 1 magnitude, 2 log-power (dB, floor amin).");
  m.def("spectrum_filterbank", &filterbank_rows, py::arg("spectra"), py::arg("first_bin"), py::arg("offsets"),
        py::arg("weights"), py::arg("log"), py::arg("amin"),
        "emlearn_gen::filterbank_energies of each row of spectra.");
  m.def("spectrum_matrix", &matrix_rows, py::arg("x"), py::arg("matrix"),
        "emlearn_gen::matrix_vector of each row of x.");
  m.def("spectrum_features", &features_rows, py::arg("spectra"), py::arg("bin_hz"),
        "emlearn_gen::spectral_centroid and dominant_frequency of each row of spectra: (rows, 2).");
}

const module_part part("spectrum", &define_spectrum);

}  // namespace
}  // namespace emlearn_gen_host
