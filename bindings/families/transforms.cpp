// Host kernel of the transforms family: runtime/include/emlearn_gen/transforms.hpp
// over the tables of emlearn_gen/families/transforms/.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../host_model.hpp"
#include "emlearn_gen/transforms.hpp"

namespace emlearn_gen_host {
namespace {

class transforms_kernel : public kernel {
 public:
  transforms_kernel(tables& t, fields& f) {
    size_t n_ops = 0, n_shapes = 0, n_params = 0, n_indices = 0;
    m_.quadratic = t.get<float>("quadratic", &n_quadratic_);
    m_.ops = t.get<uint8_t>("ops", &n_ops);
    m_.shapes = t.get<uint32_t>("shapes", &n_shapes);
    m_.params = t.get<float>("params", &n_params);
    m_.indices = t.get<uint32_t>("indices", &n_indices);
    m_.n_steps = static_cast<uint32_t>(f.get("n_steps", UINT32_MAX));
    m_.n_features = static_cast<uint32_t>(f.get("n_features", UINT32_MAX));
    m_.n_outputs = static_cast<uint32_t>(f.get("n_outputs", UINT32_MAX));
    m_.max_width = static_cast<uint32_t>(f.get("max_width", UINT32_MAX));
    check_status(emlearn_gen::transforms_validate(m_, n_ops, n_shapes, n_params, n_indices, n_quadratic_),
                 "invalid transform program");
  }

  uint32_t n_features() const override { return m_.n_features; }

  entry_function entry(const std::string& name, output_kind kind, uint32_t width) const override {
    const emlearn_gen::transforms_model m = m_;
    if (name == "transform" && kind == output_kind::float_vector && width == m.n_outputs) {
      return [m](const float* X, size_t n, void* out) {
        std::vector<float> scratch(static_cast<size_t>(emlearn_gen::transforms_scratch_floats(m)) + 1u);
        float* y = static_cast<float*>(out);
        for (size_t i = 0; i < n; ++i) {
          emlearn_gen::transforms_run(m, X + i * m.n_features, y + i * m.n_outputs, scratch.data());
        }
      };
    }
    if (name == "score_samples" && kind == output_kind::float_vector && width == 1u && n_quadratic_ != 0u) {
      return [m](const float* X, size_t n, void* out) {
        std::vector<float> scratch(static_cast<size_t>(emlearn_gen::transforms_scratch_floats(m)) + 1u);
        float* y = static_cast<float*>(out);
        for (size_t i = 0; i < n; ++i) {
          emlearn_gen::transforms_score_samples(m, X + i * m.n_features, y + i, scratch.data());
        }
      };
    }
    throw std::invalid_argument("the transforms kernel has no entry point '" + name + "' of " +
                                kind_name(kind) + " output and width " + std::to_string(width));
  }

 private:
  emlearn_gen::transforms_model m_{};
  size_t n_quadratic_ = 0;
};

std::unique_ptr<kernel> make_transforms(tables& t, fields& f) {
  return std::unique_ptr<kernel>(new transforms_kernel(t, f));
}

const kernel_registration registration("transforms", &make_transforms, EMLEARN_GEN_TRANSFORMS_FORMAT);

}  // namespace
}  // namespace emlearn_gen_host
