// Python binding of runtime/include/emlearn_gen/postprocess.hpp: the
// post-processing state objects over memory this object owns
// (emlearn_gen.signal.postprocess wraps them). update() takes a batch of
// consecutive inputs and returns the output after each.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "../host_model.hpp"
#include "emlearn_gen/postprocess.hpp"

namespace emlearn_gen_host {
namespace {

typedef py::array_t<float, py::array::c_style | py::array::forcecast> float_array;
typedef py::array_t<int32_t, py::array::c_style | py::array::forcecast> int_array;
typedef py::array_t<uint8_t, py::array::c_style | py::array::forcecast> byte_array;

// Rows of a (n, width) batch; throws on another shape.
py::ssize_t batch_rows(const py::array& x, uint32_t width) {
  if (x.ndim() != 2 || static_cast<uint64_t>(x.shape(1)) != width) {
    throw std::invalid_argument("a batch must have shape (n, " + std::to_string(width) + ")");
  }
  return x.shape(0);
}

py::ssize_t vector_length(const py::array& x) {
  if (x.ndim() != 1) throw std::invalid_argument("a batch must be one-dimensional");
  return x.shape(0);
}

class moving_average_object {
 public:
  moving_average_object(uint32_t window, uint32_t n_classes)
      : memory_(emlearn_gen::moving_average_bytes(window, n_classes) / sizeof(float)) {
    check_status(emlearn_gen::moving_average_init(&s_, memory_.data(), memory_.size() * sizeof(float), window,
                                                  n_classes),
                 "invalid moving average");
  }
  void reset() { emlearn_gen::moving_average_reset(&s_); }
  py::array_t<float> update(const float_array& P) {
    const py::ssize_t n = batch_rows(P, s_.n_classes);
    py::array_t<float> out({n, static_cast<py::ssize_t>(s_.n_classes)});
    const float* in = P.data();
    float* result = out.mutable_data();
    py::gil_scoped_release release;
    for (py::ssize_t i = 0; i < n; ++i) {
      emlearn_gen::moving_average_update(&s_, in + i * s_.n_classes, result + i * s_.n_classes);
    }
    return out;
  }
  size_t nbytes() const { return emlearn_gen::moving_average_bytes(s_.window, s_.n_classes); }

 private:
  std::vector<float> memory_;
  emlearn_gen::moving_average s_{};
};

class exponential_smoothing_object {
 public:
  exponential_smoothing_object(float alpha, uint32_t n_classes)
      : memory_(emlearn_gen::exponential_smoothing_bytes(n_classes) / sizeof(float)) {
    check_status(emlearn_gen::exponential_smoothing_init(&s_, memory_.data(), memory_.size() * sizeof(float),
                                                         n_classes, alpha),
                 "invalid exponential smoothing");
  }
  void reset() { emlearn_gen::exponential_smoothing_reset(&s_); }
  py::array_t<float> update(const float_array& X) {
    const py::ssize_t n = batch_rows(X, s_.n_classes);
    py::array_t<float> out({n, static_cast<py::ssize_t>(s_.n_classes)});
    const float* in = X.data();
    float* result = out.mutable_data();
    py::gil_scoped_release release;
    for (py::ssize_t i = 0; i < n; ++i) {
      emlearn_gen::exponential_smoothing_update(&s_, in + i * s_.n_classes, result + i * s_.n_classes);
    }
    return out;
  }
  size_t nbytes() const { return emlearn_gen::exponential_smoothing_bytes(s_.n_classes); }

 private:
  std::vector<float> memory_;
  emlearn_gen::exponential_smoothing s_{};
};

class majority_vote_object {
 public:
  explicit majority_vote_object(uint32_t window)
      : memory_(emlearn_gen::majority_vote_bytes(window) / sizeof(int32_t)) {
    check_status(emlearn_gen::majority_vote_init(&s_, memory_.data(), memory_.size() * sizeof(int32_t), window),
                 "invalid majority vote");
  }
  void reset() { emlearn_gen::majority_vote_reset(&s_); }
  py::array_t<int32_t> update(const int_array& labels) {
    const py::ssize_t n = vector_length(labels);
    py::array_t<int32_t> out(n);
    const int32_t* in = labels.data();
    int32_t* result = out.mutable_data();
    py::gil_scoped_release release;
    for (py::ssize_t i = 0; i < n; ++i) result[i] = emlearn_gen::majority_vote_update(&s_, in[i]);
    return out;
  }
  size_t nbytes() const { return emlearn_gen::majority_vote_bytes(s_.window); }

 private:
  std::vector<int32_t> memory_;
  emlearn_gen::majority_vote s_{};
};

class hysteresis_object {
 public:
  hysteresis_object(float low, float high) {
    check_status(emlearn_gen::hysteresis_init(&s_, low, high), "invalid hysteresis thresholds");
  }
  void reset() { emlearn_gen::hysteresis_reset(&s_); }
  py::array_t<bool> update(const float_array& scores) {
    const py::ssize_t n = vector_length(scores);
    py::array_t<bool> out(n);
    const float* in = scores.data();
    bool* result = out.mutable_data();
    py::gil_scoped_release release;
    for (py::ssize_t i = 0; i < n; ++i) result[i] = emlearn_gen::hysteresis_update(&s_, in[i]);
    return out;
  }
  bool on() const { return s_.on; }

 private:
  emlearn_gen::hysteresis s_{};
};

class n_of_m_object {
 public:
  n_of_m_object(uint32_t n, uint32_t m) : memory_(emlearn_gen::n_of_m_bytes(m)) {
    check_status(emlearn_gen::n_of_m_init(&s_, memory_.data(), memory_.size(), n, m), "invalid n of m detector");
  }
  void reset() { emlearn_gen::n_of_m_reset(&s_); }
  py::array_t<bool> update(const byte_array& events) {
    const py::ssize_t length = vector_length(events);
    py::array_t<bool> out(length);
    const uint8_t* in = events.data();
    bool* result = out.mutable_data();
    py::gil_scoped_release release;
    for (py::ssize_t i = 0; i < length; ++i) result[i] = emlearn_gen::n_of_m_update(&s_, in[i] != 0u);
    return out;
  }
  size_t nbytes() const { return emlearn_gen::n_of_m_bytes(s_.m); }

 private:
  std::vector<uint8_t> memory_;
  emlearn_gen::n_of_m s_{};
};

void define_postprocess(py::module_& m) {
  py::class_<moving_average_object>(m, "postprocess_moving_average")
      .def(py::init<uint32_t, uint32_t>(), py::arg("window"), py::arg("n_classes"))
      .def("reset", &moving_average_object::reset)
      .def("update", &moving_average_object::update, py::arg("proba"))
      .def_property_readonly("nbytes", &moving_average_object::nbytes);
  py::class_<exponential_smoothing_object>(m, "postprocess_exponential_smoothing")
      .def(py::init<float, uint32_t>(), py::arg("alpha"), py::arg("n_classes"))
      .def("reset", &exponential_smoothing_object::reset)
      .def("update", &exponential_smoothing_object::update, py::arg("x"))
      .def_property_readonly("nbytes", &exponential_smoothing_object::nbytes);
  py::class_<majority_vote_object>(m, "postprocess_majority_vote")
      .def(py::init<uint32_t>(), py::arg("window"))
      .def("reset", &majority_vote_object::reset)
      .def("update", &majority_vote_object::update, py::arg("labels"))
      .def_property_readonly("nbytes", &majority_vote_object::nbytes);
  py::class_<hysteresis_object>(m, "postprocess_hysteresis")
      .def(py::init<float, float>(), py::arg("low"), py::arg("high"))
      .def("reset", &hysteresis_object::reset)
      .def("update", &hysteresis_object::update, py::arg("scores"))
      .def_property_readonly("on", &hysteresis_object::on);
  py::class_<n_of_m_object>(m, "postprocess_n_of_m")
      .def(py::init<uint32_t, uint32_t>(), py::arg("n"), py::arg("m"))
      .def("reset", &n_of_m_object::reset)
      .def("update", &n_of_m_object::update, py::arg("events"))
      .def_property_readonly("nbytes", &n_of_m_object::nbytes);
}

const module_part part("postprocess", &define_postprocess);

}  // namespace
}  // namespace emlearn_gen_host
