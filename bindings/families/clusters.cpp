// Host kernel of the clusters family: runtime/include/emlearn_gen/clusters.hpp
// over the tables of emlearn_gen/families/clusters/ (k-means centres).
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "../host_model.hpp"
#include "emlearn_gen/clusters.hpp"

namespace emlearn_gen_host {
namespace {

class clusters_kernel : public kernel {
 public:
  clusters_kernel(tables& t, fields& f) {
    size_t n_centers = 0;
    m_.centers = t.get<float>("centers", &n_centers);
    m_.n_features = static_cast<uint32_t>(f.get("n_features", UINT32_MAX));
    m_.n_clusters = static_cast<uint32_t>(f.get("n_clusters", UINT32_MAX));
    check_status(emlearn_gen::clusters_validate(m_, n_centers), "invalid clustering");
  }

  uint32_t n_features() const override { return m_.n_features; }

  entry_function entry(const std::string& name, output_kind kind, uint32_t width) const override {
    const emlearn_gen::clusters_model m = m_;
    if (name == "predict" && kind == output_kind::int_scalar) {
      return per_row(m.n_features, sizeof(int32_t), [m](const float* x, void* out) {
        *static_cast<int32_t*>(out) = emlearn_gen::clusters_label(m, x);
      });
    }
    if (name == "nearest_sq_distance" && kind == output_kind::float_vector && width == 1) {
      return per_row(m.n_features, sizeof(float), [m](const float* x, void* out) {
        *static_cast<float*>(out) = emlearn_gen::clusters_nearest_sq_distance(m, x);
      });
    }
    if (name == "transform" && kind == output_kind::float_vector && width == m.n_clusters) {
      return per_row(m.n_features, width * sizeof(float), [m](const float* x, void* out) {
        emlearn_gen::clusters_transform(m, x, static_cast<float*>(out));
      });
    }
    throw std::invalid_argument("the clusters kernel has no entry point '" + name + "' of " + kind_name(kind) +
                                " output and width " + std::to_string(width));
  }

 private:
  emlearn_gen::clusters_model m_{};
};

std::unique_ptr<kernel> make_clusters(tables& t, fields& f) {
  return std::unique_ptr<kernel>(new clusters_kernel(t, f));
}

const kernel_registration registration("clusters", &make_clusters, EMLEARN_GEN_CLUSTERS_FORMAT);

}  // namespace
}  // namespace emlearn_gen_host
