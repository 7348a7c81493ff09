// Python binding of the window statistics (runtime window_stats.hpp):
// _runtime.window_stats(X, n_samples, n_channels, features), one window per
// row of X, run by the very kernel a device runs.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "../host_model.hpp"
#include "emlearn_gen/window_stats.hpp"

namespace emlearn_gen_host {
namespace {

typedef py::array_t<float, py::array::c_style | py::array::forcecast> float_rows;

py::array_t<float> window_stats(const float_rows& X, uint32_t n_samples, uint32_t n_channels,
                                const std::vector<uint8_t>& features) {
  if (X.ndim() != 2) {
    throw std::invalid_argument("X must be 2-D: one window of n_samples * n_channels values per row");
  }
  const uint32_t n_features = static_cast<uint32_t>(features.size());
  const emlearn_gen::status checked =
      emlearn_gen::window_stats_validate(n_samples, n_channels, features.data(), n_features);
  check_status(checked, "invalid window statistics arguments");
  const size_t width = static_cast<size_t>(n_samples) * n_channels;
  if (static_cast<size_t>(X.shape(1)) != width) {
    throw std::invalid_argument("X has " + std::to_string(X.shape(1)) + " values per row, but a window of " +
                                std::to_string(n_samples) + " samples x " + std::to_string(n_channels) +
                                " channels has " + std::to_string(width));
  }
  const size_t n_rows = static_cast<size_t>(X.shape(0));
  const size_t n_out = static_cast<size_t>(n_features) * n_channels;
  py::array_t<float> out({n_rows, n_out});
  const float* in = X.data();
  float* result = out.mutable_data();
  {
    py::gil_scoped_release release;
    for (size_t i = 0; i < n_rows; ++i) {
      emlearn_gen::window_stats(in + i * width, n_samples, n_channels, features.data(), n_features,
                                result + i * n_out);
    }
  }
  return out;
}

void define_window_stats(py::module_& m) {
  m.def("window_stats", &window_stats, py::arg("X"), py::arg("n_samples"), py::arg("n_channels"),
        py::arg("features"),
        "Statistics of each window (row of X: n_samples x n_channels float32 values, samples-major) by the "
        "runtime's window_stats: float32 (n_rows, len(features) * n_channels), feature-major. features: "
        "window_feature codes (0 mean, 1 std, 2 min, 3 max, 4 rms, 5 zero_crossings, 6 peak_to_peak, "
        "7 energy). NaN is not checked here (emlearn_gen.signal.WindowFeatures refuses it).");
  m.attr("WINDOW_FEATURE_COUNT") = EMLEARN_GEN_WINDOW_FEATURE_COUNT;
}

const module_part part("window_stats", &define_window_stats);

}  // namespace
}  // namespace emlearn_gen_host
