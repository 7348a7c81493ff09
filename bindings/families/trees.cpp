// Host kernel of the trees family: runtime/include/emlearn_gen/tree_ensemble.hpp
// over the tables of emlearn_gen/families/trees/pack.py.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../host_model.hpp"
#include "emlearn_gen/tree_ensemble.hpp"

namespace emlearn_gen_host {
namespace {

// The host's own copy of a validated forest, decoded once at load time so
// that a batch walks plain structs instead of bit records. Built from the
// same tables by the same reading as forest_leaf(), and summed in the same
// order, so every result is bit-identical to the header's kernel.
template <typename Real>
struct expanded_forest {
  // One split node: 16 bytes, so four share a cache line.
  struct node {
    float threshold;
    uint32_t feature;  // bit 31: a missing value (NaN) goes left
    int32_t child[2];  // [left, right]: a node index, or ~leaf for a leaf row
  };
  static constexpr uint32_t missing_left = 0x80000000u;
  std::vector<node> nodes;
  std::vector<int32_t> roots;  // per tree: a node index, or ~leaf
  std::vector<Real> rows;      // leaf_width values per leaf row, codes resolved
  uint32_t n_features = 0;
  uint32_t width = 0;
  uint32_t n_trees = 0;

  // One node's decision on x: the child it goes to. With `may_be_missing`
  // false the caller knows that x holds no NaN.
  template <bool may_be_missing = true>
  static int32_t step(const node& d, const float* x) {
    const float value = x[d.feature & ~missing_left];
    if (!may_be_missing) return d.child[value <= d.threshold ? 0 : 1];
    // As forest_leaf: NaN follows the node's flag and only a present value
    // decides by comparison. Bit operations rather than a branch, so that
    // the lanes of a batch run without jumps.
    const bool missing = emlearn_gen::is_missing(value);
    const bool left = (!missing & (value <= d.threshold)) | (missing & ((d.feature & missing_left) != 0));
    return d.child[left ? 0 : 1];
  }
};

// Decodes the records of `f` (already validated by forest_validate).
template <typename Word, typename Real>
expanded_forest<Real> expand(const emlearn_gen::forest<Real>& f) {
  namespace d = emlearn_gen::detail;
  expanded_forest<Real> e;
  e.n_features = f.n_features;
  e.width = f.leaf_width;
  e.n_trees = f.n_trees;
  const uint8_t rec_bits = d::record_bits(f);
  const uint8_t ref_shift = static_cast<uint8_t>(f.feature_bits + d::flag_bits);
  const Word feature_mask = static_cast<Word>((static_cast<Word>(1) << f.feature_bits) - 1u);
  const Word ref_mask = static_cast<Word>((static_cast<Word>(1) << f.ref_bits) - 1u);
  e.nodes.resize(f.n_nodes);
  for (uint32_t i = 0; i < f.n_nodes; ++i) {
    const Word record = emlearn_gen::read_bits<Word>(f.nodes, i * static_cast<uint32_t>(rec_bits), rec_bits);
    const uint32_t feature = static_cast<uint32_t>(record & feature_mask);
    const uint32_t flags = static_cast<uint32_t>(record >> f.feature_bits) & 7u;
    const uint32_t ref = static_cast<uint32_t>((record >> ref_shift) & ref_mask);
    const uint32_t thr = f.thr_bits ? static_cast<uint32_t>(record >> (ref_shift + f.ref_bits)) : i;
    const bool left_leaf = (flags & d::flag_left_leaf) != 0;
    const bool right_leaf = (flags & d::flag_right_leaf) != 0;
    typename expanded_forest<Real>::node& n = e.nodes[i];
    n.threshold = f.thresholds[thr];
    n.feature = feature | ((flags & d::flag_missing_left) ? expanded_forest<Real>::missing_left : 0u);
    // The four cases of the record's `ref` (tree_ensemble.hpp).
    n.child[0] = left_leaf ? ~static_cast<int32_t>(ref) : static_cast<int32_t>(i + 1u);
    if (right_leaf) {
      n.child[1] = ~static_cast<int32_t>(ref + (left_leaf ? 1u : 0u));
    } else {
      n.child[1] = static_cast<int32_t>(left_leaf ? i + 1u : i + ref);
    }
  }
  e.roots.resize(f.n_trees);
  for (uint32_t t = 0; t < f.n_trees; ++t) {
    const uint32_t root = static_cast<uint32_t>(
        emlearn_gen::read_bits<Word>(f.roots, t * static_cast<uint32_t>(f.root_bits), f.root_bits));
    e.roots[t] = root >= f.n_nodes ? ~static_cast<int32_t>(root - f.n_nodes) : static_cast<int32_t>(root);
  }
  // Each leaf row as forest_add_leaf() reads it, codes resolved (models
  // with sparse rows never take the expanded path: see chunked_mean).
  const uint16_t row_width = d::row_width(f);
  e.rows.assign(static_cast<size_t>(f.n_leaves) * row_width, emlearn_gen::zero<Real>());
  for (uint32_t leaf = 0; leaf < f.n_leaves; ++leaf) {
    emlearn_gen::forest_add_leaf<Word>(f, leaf, e.rows.data() + static_cast<size_t>(leaf) * row_width);
  }
  return e;
}

// Index of the lowest set bit of a non-zero mask.
inline unsigned lowest_bit(uint64_t mask) {
#if defined(__GNUC__) || defined(__clang__)
  return static_cast<unsigned>(__builtin_ctzll(mask));
#else
  unsigned i = 0;
  while (!(mask & 1u)) {
    mask >>= 1;
    ++i;
  }
  return i;
#endif
}

// Whether any of `count` values may be missing; an infinity counts too:
// rare, and then the exact walk runs.
inline bool any_missing(const float* x, size_t count) {
  return scan_non_finite(x, count).nan_or_inf;
}

// Writes to leaf[i - start] the leaf row that row i of X reaches in the
// tree at `root` (a split node), for rows start..stop. `lanes` rows walk
// side by side, each lane taking the next row as soon as its row reaches a
// leaf: the lanes' independent loads and comparisons overlap instead of
// each walk waiting on its previous node, and an exit costs one lane's
// refill.
template <bool may_be_missing, typename Real>
void expanded_leaves(const expanded_forest<Real>& e, int32_t root, const float* X, size_t start, size_t stop,
                     uint32_t* leaf) {
  typedef expanded_forest<Real> forest_type;
  // Measured on forests of 10 to 100 trees: 8 lanes reach about 0.7 of
  // the speed of 32, 64 a few percent more than 32.
  const unsigned lanes = 64;
  const size_t n_features = e.n_features;
  const typename forest_type::node* nodes = e.nodes.data();
  size_t next = start;  // the next row no lane has taken
  size_t row[lanes];
  const float* x[lanes];
  int32_t at[lanes];
  unsigned active = 0;
  for (; active < lanes && next < stop; ++active, ++next) {
    row[active] = next - start;
    x[active] = X + next * n_features;
    at[active] = root;
  }
  // Every lane is at a split node at the top of each pass.
  while (next + lanes <= stop) {
    // Rows enough for every lane to refill in this pass: step all lanes,
    // note the finished ones in a mask (no branch per lane), refill those.
    uint64_t finished = 0;
    for (unsigned l = 0; l < lanes; ++l) {
      at[l] = forest_type::template step<may_be_missing>(nodes[at[l]], x[l]);
      finished |= static_cast<uint64_t>(static_cast<uint32_t>(at[l]) >> 31) << l;
    }
    while (finished) {
      const unsigned l = lowest_bit(finished);
      finished &= finished - 1u;
      leaf[row[l]] = static_cast<uint32_t>(~at[l]);
      row[l] = next - start;
      x[l] = X + next * n_features;
      at[l] = root;
      ++next;
    }
  }
  // The last rows: lanes retire as the rows run out.
  while (active) {
    for (unsigned l = 0; l < active; ++l) at[l] = forest_type::template step<may_be_missing>(nodes[at[l]], x[l]);
    for (unsigned l = 0; l < active;) {
      if (at[l] >= 0) {
        ++l;
        continue;
      }
      leaf[row[l]] = static_cast<uint32_t>(~at[l]);
      if (next < stop) {
        row[l] = next - start;
        x[l] = X + next * n_features;
        at[l] = root;
        ++next;
        ++l;
      } else {  // no row left: the last lane takes this one's place
        --active;
        row[l] = row[active];
        x[l] = x[active];
        at[l] = at[active];
      }
    }
  }
}

// forest_mean_batch() on the expanded forest. For each block of rows, the
// trees are walked one after the other (each tree's nodes stay in cache),
// recording the leaf each row reaches; then each row sums its leaf rows in
// tree order from zero and divides by the tree count, exactly as
// forest_mean() does.
template <typename Real>
void expanded_mean_batch(const expanded_forest<Real>& e, const float* X, size_t n, Real* out) {
  const size_t width = e.width;
  const size_t n_trees = e.n_trees;
  // Rows per block: the leaf indices of a block stay within 256 KiB.
  const size_t block = std::max<size_t>(64, std::min<size_t>(1024, (size_t(1) << 16) / n_trees));
  std::vector<uint32_t> leaves(block * n_trees);
  for (size_t start = 0; start < n; start += block) {
    const size_t stop = n - start < block ? n : start + block;
    const size_t rows = stop - start;
    // Blocks without NaN (most) skip the missing-value test at every node.
    const bool missing = any_missing(X + start * e.n_features, rows * e.n_features);
    for (size_t t = 0; t < n_trees; ++t) {
      const int32_t root = e.roots[t];
      uint32_t* leaf = leaves.data() + t * block;
      if (root < 0) {  // a tree that is one leaf
        std::fill(leaf, leaf + rows, static_cast<uint32_t>(~root));
      } else if (missing) {
        expanded_leaves<true>(e, root, X, start, stop, leaf);
      } else {
        expanded_leaves<false>(e, root, X, start, stop, leaf);
      }
    }
    for (size_t i = 0; i < rows; ++i) {
      Real* y = out + (start + i) * width;
      for (size_t j = 0; j < width; ++j) y[j] = emlearn_gen::zero<Real>();
      for (size_t t = 0; t < n_trees; ++t) {
        const Real* value = e.rows.data() + static_cast<size_t>(leaves[t * block + i]) * width;
        for (size_t j = 0; j < width; ++j) y[j] += value[j];
      }
      for (size_t j = 0; j < width; ++j) y[j] = emlearn_gen::divide(y[j], e.n_trees);
    }
  }
}

template <typename Real, typename Word>
class tree_kernel : public kernel {
 public:
  tree_kernel(tables& t, fields& f) {
    size_t n_nodes_bytes = 0, n_thresholds = 0, n_values = 0, n_codes_bytes = 0, n_roots_bytes = 0;
    f_.nodes = t.get<uint8_t>("nodes", &n_nodes_bytes);
    f_.thresholds = t.get<float>("thresholds", &n_thresholds);
    f_.leaves = t.get<Real>("leaves", &n_values);
    f_.leaf_codes = t.get<uint8_t>("leaf_codes", &n_codes_bytes);
    f_.roots = t.get<uint8_t>("roots", &n_roots_bytes);
    size_t n_real_constants = 0, n_float_constants = 0;
    f_.real_constants = t.get<Real>("real_constants", &n_real_constants);
    f_.float_constants = t.get<float>("float_constants", &n_float_constants);
    size_t n_cat_values = 0, n_cat_starts_bytes = 0, n_cat_bits_bytes = 0;
    f_.cat_values = t.get<float>("cat_values", &n_cat_values);
    f_.cat_starts = t.get<uint8_t>("cat_starts", &n_cat_starts_bytes);
    f_.cat_bits = t.get<uint8_t>("cat_bits", &n_cat_bits_bytes);
    f_.n_cat_values = static_cast<uint32_t>(f.get("n_cat_values", UINT32_MAX));
    if (f_.n_cat_values != n_cat_values) {
      throw std::invalid_argument("invalid packed forest: n_cat_values is not the length of cat_values");
    }
    f_.cat_start_bits = static_cast<uint8_t>(f.get("cat_start_bits", 63));
    size_t n_tree_classes_bytes = 0;
    f_.tree_classes = t.get<uint8_t>("tree_classes", &n_tree_classes_bytes);
    f_.tree_class_bits = static_cast<uint8_t>(f.get("tree_class_bits", 16));
    size_t n_leaf_classes_bytes = 0;
    f_.leaf_classes = t.get<uint8_t>("leaf_classes", &n_leaf_classes_bytes);
    f_.leaf_class_bits = static_cast<uint8_t>(f.get("leaf_class_bits", 16));
    outlier_ = f.get("outlier", 1) != 0;
    f_.boost = static_cast<uint8_t>(f.get("boost", emlearn_gen::boost_link::exp));
    f_.n_nodes = static_cast<uint32_t>(f.get("n_nodes", UINT32_MAX));
    f_.n_leaves = static_cast<uint32_t>(f.get("n_leaves", UINT32_MAX));
    f_.n_trees = static_cast<uint32_t>(f.get("n_trees", UINT32_MAX));
    f_.n_features = static_cast<uint32_t>(f.get("n_features", UINT32_MAX));
    f_.leaf_width = static_cast<uint16_t>(f.get("leaf_width", UINT16_MAX));
    f_.feature_bits = static_cast<uint8_t>(f.get("feature_bits", 63));
    f_.ref_bits = static_cast<uint8_t>(f.get("ref_bits", 63));
    f_.thr_bits = static_cast<uint8_t>(f.get("thr_bits", 63));
    f_.root_bits = static_cast<uint8_t>(f.get("root_bits", 63));
    f_.value_bits = static_cast<uint8_t>(f.get("value_bits", 63));
    f_.n_thresholds = static_cast<uint32_t>(n_thresholds);
    f_.n_values = static_cast<uint32_t>(n_values);
    if (n_thresholds > UINT32_MAX || n_values > UINT32_MAX || n_cat_values > UINT32_MAX) {
      throw std::invalid_argument("trees: a table has more than 2**32 - 1 entries");
    }
    check_status(emlearn_gen::forest_validate<Word>(f_, n_nodes_bytes, n_roots_bytes, n_codes_bytes,
                                                    n_cat_starts_bytes, n_cat_bits_bytes, n_tree_classes_bytes,
                                                    n_leaf_classes_bytes),
                 "invalid packed forest");
    if (f_.boost == emlearn_gen::boost_link::median && n_real_constants != f_.n_trees) {
      throw std::invalid_argument("invalid packed forest: AdaBoostRegressor needs one weight per tree");
    }
    if (f_.boost == emlearn_gen::boost_link::samme && n_real_constants != 1) {
      throw std::invalid_argument("invalid packed forest: AdaBoost needs the sum of its estimator weights");
    }
    if (outlier_ && (n_real_constants != 1 || n_float_constants != 2 || f_.leaf_width != 1)) {
      throw std::invalid_argument("invalid packed forest: an outlier detector needs 1 + 2 score constants and 1 value per leaf");
    }
    if (f_.n_nodes > static_cast<uint32_t>(INT32_MAX) || f_.n_leaves > static_cast<uint32_t>(INT32_MAX)) {
      throw std::invalid_argument("trees: more than 2**31 - 1 nodes or leaves");
    }
    expanded_ = std::make_shared<const expanded_forest<Real>>(expand<Word>(f_));
  }

  uint32_t n_features() const override { return f_.n_features; }

  entry_function entry(const std::string& name, output_kind kind, uint32_t width) const override {
    const emlearn_gen::forest<Real>& f = f_;
    const std::shared_ptr<const expanded_forest<Real>> e = expanded_;
    const uint32_t leaf_width = f_.leaf_width;
    if (name == "apply" && kind == output_kind::int_vector && width == f_.n_trees) {
      // Leaf row reached in every tree (host-only, for tests and tools).
      return per_row(f_.n_features, width * sizeof(int32_t), [f](const float* x, void* out) {
        int32_t* y = static_cast<int32_t*>(out);
        for (uint32_t t = 0; t < f.n_trees; ++t) {
          y[t] = static_cast<int32_t>(emlearn_gen::forest_leaf<Word>(f, t, x));
        }
      });
    }
    if (f_.boost == emlearn_gen::boost_link::median) {
      if (name == "predict" && kind == output_kind::float_vector && width == 1) {
        return [f](const float* X, size_t n, void* out) {
          std::vector<Real> values(f.n_trees);
          std::vector<uint32_t> order(f.n_trees);
          for (size_t i = 0; i < n; ++i) {
            static_cast<float*>(out)[i] = emlearn_gen::to_float(
                emlearn_gen::adaboost_median<Word>(f, X + i * f.n_features, values.data(), order.data()));
          }
        };
      }
      throw std::invalid_argument("the trees kernel has no AdaBoostRegressor entry point '" + name + "'");
    }
    if (f_.boost != 0) {
      const bool binary = f_.boost == emlearn_gen::boost_link::logistic ||
                          f_.boost == emlearn_gen::boost_link::logistic2x ||
                          f_.boost == emlearn_gen::boost_link::logistic_positive;
      const bool regressor = f_.boost == emlearn_gen::boost_link::identity || f_.boost == emlearn_gen::boost_link::exp;
      const uint32_t n_classes = binary ? 2u : leaf_width;
      if (name == "predict" && kind == output_kind::int_scalar && !regressor) {
        return [f, leaf_width](const float* X, size_t n, void* out) {
          std::vector<Real> sums(leaf_width);
          for (size_t i = 0; i < n; ++i) {
            static_cast<int32_t*>(out)[i] = emlearn_gen::boost_label<Word>(f, X + i * f.n_features, sums.data());
          }
        };
      }
      const bool samme = f_.boost == emlearn_gen::boost_link::samme;
      const uint32_t n_decision = samme && leaf_width == 2u ? 1u : leaf_width;
      const bool raw = (name == "decision_function" || name == "predict") && width == n_decision;
      const bool proba = name == "predict_proba" && width == n_classes && !regressor;
      if (kind == output_kind::float_vector && (raw || proba)) {
        return [f, leaf_width, width, proba](const float* X, size_t n, void* out) {
          std::vector<Real> sums(leaf_width);
          for (size_t i = 0; i < n; ++i) {
            float* y = static_cast<float*>(out) + i * width;
            if (proba) {
              emlearn_gen::boost_proba<Word>(f, X + i * f.n_features, sums.data(), y);
            } else {
              emlearn_gen::boost_raw<Word>(f, X + i * f.n_features, sums.data(), y);
            }
          }
        };
      }
      throw std::invalid_argument("the trees kernel has no boosted entry point '" + name + "' of width " +
                                  std::to_string(width));
    }
    if (outlier_) {
      if (name == "predict" && kind == output_kind::int_scalar) {
        return per_row(f_.n_features, sizeof(int32_t), [f](const float* x, void* out) {
          *static_cast<int32_t*>(out) = emlearn_gen::isolation_predict<Word>(f, x);
        });
      }
      if (name == "score_samples" && kind == output_kind::float_vector && width == 1) {
        return per_row(f_.n_features, sizeof(float), [f](const float* x, void* out) {
          *static_cast<float*>(out) = emlearn_gen::isolation_score<Word>(f, x);
        });
      }
      if (name == "decision_function" && kind == output_kind::float_vector && width == 1) {
        return per_row(f_.n_features, sizeof(float), [f](const float* x, void* out) {
          *static_cast<float*>(out) = emlearn_gen::isolation_decision<Word>(f, x);
        });
      }
    }
    if (width == leaf_width && kind == output_kind::float_vector &&
        (name == "predict" || name == "predict_proba")) {
      // The mean of the leaves, narrowed to float as the header narrows it.
      return [f, e, leaf_width](const float* X, size_t n, void* out) {
        float* y = static_cast<float*>(out);
        chunked_mean(f, *e, X, n, [y, leaf_width](size_t start, size_t rows, const Real* mean) {
          for (size_t i = 0; i < rows * leaf_width; ++i) y[start * leaf_width + i] = emlearn_gen::to_float(mean[i]);
        });
      };
    }
    if (name == "predict" && kind == output_kind::int_scalar) {
      // The class a generated classifier's predict() returns.
      return [f, e, leaf_width](const float* X, size_t n, void* out) {
        int32_t* y = static_cast<int32_t*>(out);
        chunked_mean(f, *e, X, n, [y, leaf_width](size_t start, size_t rows, const Real* mean) {
          for (size_t i = 0; i < rows; ++i) {
            y[start + i] = emlearn_gen::argmax(mean + i * leaf_width, static_cast<int32_t>(leaf_width));
          }
        });
      };
    }
    throw std::invalid_argument("the trees kernel has no entry point '" + name + "' of " +
                                kind_name(kind) + " output and width " + std::to_string(width));
  }

 private:
  // The means of n rows, handed to `use(start, rows, means)` a chunk at a
  // time, so the means stay in cache between computing and narrowing them.
  // One row goes through the header's own entry point; more through the
  // expanded forest, which gives the same bits faster (models without
  // categorical splits or sparse rows, which the expanded forest does not
  // decode).
  template <typename Use>
  static void chunked_mean(const emlearn_gen::forest<Real>& f, const expanded_forest<Real>& e, const float* X,
                           size_t n, Use use) {
    const size_t chunk = 2048;
    std::vector<Real> mean((n < chunk ? n : chunk) * f.leaf_width);
    if (n == 1 || f.n_cat_values != 0u || f.tree_class_bits != 0u) {
      for (size_t i = 0; i < n; ++i) {
        emlearn_gen::forest_mean<Word>(f, X + i * f.n_features, mean.data());
        use(i, 1, static_cast<const Real*>(mean.data()));
      }
      return;
    }
    for (size_t start = 0; start < n; start += chunk) {
      const size_t rows = n - start < chunk ? n - start : chunk;
      expanded_mean_batch(e, X + start * f.n_features, rows, mean.data());
      use(start, rows, static_cast<const Real*>(mean.data()));
    }
  }

  emlearn_gen::forest<Real> f_{};
  bool outlier_ = false;
  std::shared_ptr<const expanded_forest<Real>> expanded_;
};

std::unique_ptr<kernel> make_trees(tables& t, fields& f) {
  const uint64_t real_bits = f.get("real_bits", 64);
  const uint64_t word_bits = f.get("word_bits", 64);
  if (word_bits != 32 && word_bits != 64) throw std::invalid_argument("trees: word_bits must be 32 or 64");
  if (real_bits == 32) {
    if (word_bits == 32) return std::unique_ptr<kernel>(new tree_kernel<float, uint32_t>(t, f));
    return std::unique_ptr<kernel>(new tree_kernel<float, uint64_t>(t, f));
  }
  if (real_bits == 64) {
    if (word_bits == 32) return std::unique_ptr<kernel>(new tree_kernel<double, uint32_t>(t, f));
    return std::unique_ptr<kernel>(new tree_kernel<double, uint64_t>(t, f));
  }
  throw std::invalid_argument("trees: real_bits must be 32 or 64");
}

const kernel_registration registration("trees", &make_trees, EMLEARN_GEN_TREES_FORMAT);

}  // namespace
}  // namespace emlearn_gen_host
