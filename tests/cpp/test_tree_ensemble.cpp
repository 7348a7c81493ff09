// Tests of tree_ensemble.hpp on small tables built here from the layout
// documented at the top of that header.
#include <gtest/gtest.h>

#include <stdint.h>
#include <string.h>

#include <cmath>
#include <limits>
#include <map>
#include <utility>
#include <vector>

// The second build of this suite walks the trees through the byte-by-byte
// read that AVR and big-endian targets use.
#if defined(EMLEARN_GEN_TEST_PORTABLE_READ)
#undef __BYTE_ORDER__
#endif

#include "emlearn_gen/float64.hpp"
#include "emlearn_gen/tree_ensemble.hpp"

namespace {

using emlearn_gen::forest;
using emlearn_gen::status;

// Flag values as documented in tree_ensemble.hpp (deliberately not taken
// from the header's detail namespace).
constexpr uint32_t kLeftLeaf = 1u;
constexpr uint32_t kRightLeaf = 2u;
constexpr uint32_t kMissingLeft = 4u;
constexpr unsigned kFlagBits = 3u;

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

// ---------------------------------------------------------------------------
// Table builder

struct Node {
  uint32_t feature;
  uint32_t flags;
  uint32_t ref;
  uint32_t thr;  // threshold index; must be 0 when thr_bits == 0
};

struct Layout {
  uint8_t feature_bits;
  uint8_t ref_bits;
  uint8_t thr_bits;
  uint8_t root_bits;
};

bool fits(uint64_t value, unsigned width) { return width >= 64 || (value >> width) == 0; }

// Bytes a string of `count` fields of `width` bits needs so that a
// `word_bytes`-byte load at the first byte of every field stays inside it.
size_t required_bytes(size_t count, unsigned width, size_t word_bytes) {
  size_t need = (count * width + 7u) / 8u;
  if (count > 0 && (count - 1) * width / 8u + word_bytes > need) {
    need = (count - 1) * width / 8u + word_bytes;
  }
  return need;
}

// Fields of `width` bits, field i at bit i * width, least significant bit
// first, in exactly as many bytes as `word_bytes`-byte loads need, so that a
// sanitizer build catches any read past the documented size.
std::vector<uint8_t> pack_fields(const std::vector<uint64_t>& values, unsigned width,
                                 size_t word_bytes) {
  std::vector<uint8_t> out(required_bytes(values.size(), width, word_bytes), 0);
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_TRUE(fits(values[i], width)) << values[i] << " does not fit in " << width << " bits";
    for (unsigned b = 0; b < width; ++b) {
      if ((values[i] >> b) & 1u) {
        const size_t k = i * width + b;
        out[k / 8u] = static_cast<uint8_t>(out[k / 8u] | (1u << (k % 8u)));
      }
    }
  }
  return out;
}

template <typename Real>
struct Spec {
  Layout layout;
  uint32_t n_features;
  uint16_t leaf_width;
  std::vector<Node> nodes;       // all trees, pre-order
  std::vector<uint64_t> roots;   // one per tree; >= nodes.size() is a leaf
  std::vector<float> thresholds;
  std::vector<Real> leaves;      // rows of leaf_width values, or the distinct values
  size_t word_bytes;             // the bit strings are sized for loads of this many bytes
  // Leaf value dictionary: with value_bits > 0, `leaves` holds distinct
  // values and leaf_codes one index into them per row entry.
  uint8_t value_bits = 0;
  std::vector<uint64_t> leaf_codes;

  uint32_t n_leaves() const {
    return static_cast<uint32_t>((value_bits ? leaf_codes.size() : leaves.size()) / leaf_width);
  }
  // Value j of leaf row `leaf`, read from the unpacked spec.
  Real row_value(uint32_t leaf, uint16_t j) const {
    const size_t k = static_cast<size_t>(leaf) * leaf_width + j;
    return value_bits ? leaves[leaf_codes[k]] : leaves[k];
  }
};

unsigned record_bits(const Layout& l) {
  return l.feature_bits + kFlagBits + l.ref_bits + l.thr_bits;
}

// Owns the packed tables of a Spec and hands out forest views of them.
template <typename Real>
class Packed {
 public:
  explicit Packed(const Spec<Real>& spec) : spec_(spec) {
    const Layout& l = spec.layout;
    std::vector<uint64_t> records;
    for (const Node& n : spec.nodes) {
      EXPECT_TRUE(fits(n.feature, l.feature_bits)) << "feature " << n.feature;
      EXPECT_TRUE(fits(n.flags, kFlagBits)) << "flags " << n.flags;
      EXPECT_TRUE(fits(n.ref, l.ref_bits)) << "ref " << n.ref;
      EXPECT_TRUE(fits(n.thr, l.thr_bits)) << "threshold index " << n.thr;
      records.push_back(uint64_t(n.feature) | (uint64_t(n.flags) << l.feature_bits) |
                        (uint64_t(n.ref) << (l.feature_bits + kFlagBits)) |
                        (uint64_t(n.thr) << (l.feature_bits + kFlagBits + l.ref_bits)));
    }
    nodes_ = pack_fields(records, record_bits(l), spec.word_bytes);
    roots_ = pack_fields(spec.roots, l.root_bits, spec.word_bytes);
    if (spec.value_bits) {
      codes_ = pack_fields(spec.leaf_codes, spec.value_bits, spec.word_bytes);
    }
  }

  forest<Real> view() const {
    forest<Real> f = forest<Real>();  // members not set below are zero
    f.nodes = nodes_.data();
    f.thresholds = spec_.thresholds.data();
    f.leaves = spec_.leaves.data();
    f.leaf_codes = spec_.value_bits ? codes_.data() : nullptr;
    f.roots = roots_.data();
    f.n_nodes = static_cast<uint32_t>(spec_.nodes.size());
    f.n_thresholds = static_cast<uint32_t>(spec_.thresholds.size());
    f.n_leaves = spec_.n_leaves();
    f.n_values = static_cast<uint32_t>(spec_.leaves.size());
    f.n_trees = static_cast<uint32_t>(spec_.roots.size());
    f.n_features = spec_.n_features;
    f.leaf_width = spec_.leaf_width;
    f.feature_bits = spec_.layout.feature_bits;
    f.ref_bits = spec_.layout.ref_bits;
    f.thr_bits = spec_.layout.thr_bits;
    f.root_bits = spec_.layout.root_bits;
    f.value_bits = spec_.value_bits;
    return f;
  }

  size_t nodes_bytes() const { return nodes_.size(); }
  size_t roots_bytes() const { return roots_.size(); }
  size_t codes_bytes() const { return codes_.size(); }
  std::vector<uint8_t>& node_bits() { return nodes_; }
  std::vector<uint8_t>& root_bits() { return roots_; }
  std::vector<uint8_t>& code_bits() { return codes_; }
  const Spec<Real>& spec() const { return spec_; }

 private:
  Spec<Real> spec_;
  std::vector<uint8_t> nodes_;
  std::vector<uint8_t> roots_;
  std::vector<uint8_t> codes_;
};

template <typename Real>
bool same_bits(Real a, Real b) {
  return memcmp(&a, &b, sizeof(Real)) == 0;
}

template <typename Real>
std::vector<Real> iota_leaves(size_t rows) {
  std::vector<Real> out(rows);
  for (size_t i = 0; i < rows; ++i) {
    out[i] = static_cast<Real>(i);
  }
  return out;
}

template <typename W, typename R>
struct Config {
  using Word = W;
  using Real = R;
};

using Configs = ::testing::Types<Config<uint32_t, float>, Config<uint64_t, float>,
                                 Config<uint32_t, double>, Config<uint64_t, double>>;

// ---------------------------------------------------------------------------
// forest_leaf: every flag combination of a root split

// A root split on feature 0 with threshold `t` and the given structure
// (which children are leaves) and missing-value flag. Inner children split
// feature 1; leaf rows are numbered so that every path ends in its own row:
//   both leaves:       left -> 4, right -> 5
//   left leaf only:    left -> 2, right -> node 1 (x1 <= 0 ? 6 : 7)
//   right leaf only:   left -> node 1 (x1 <= 0 ? 0 : 1), right -> 3
//   both inner:        left -> node 1 (x1 <= 0 ? 0 : 1), right -> node 2 (x1 <= 1 ? 6 : 7)
template <typename Real>
Spec<Real> root_split(uint32_t structure, bool missing_left, float t) {
  const uint32_t m = missing_left ? kMissingLeft : 0u;
  Spec<Real> s;
  s.layout = Layout{1, 3, 0, 2};
  s.n_features = 2;
  s.leaf_width = 1;
  s.roots = {0};
  s.leaves = iota_leaves<Real>(8);
  s.word_bytes = 8;
  switch (structure) {
    case kLeftLeaf | kRightLeaf:
      s.nodes = {{0, kLeftLeaf | kRightLeaf | m, 4, 0}};
      s.thresholds = {t};
      break;
    case kLeftLeaf:
      s.nodes = {{0, kLeftLeaf | m, 2, 0}, {1, kLeftLeaf | kRightLeaf, 6, 0}};
      s.thresholds = {t, 0.0f};
      break;
    case kRightLeaf:
      s.nodes = {{0, kRightLeaf | m, 3, 0}, {1, kLeftLeaf | kRightLeaf, 0, 0}};
      s.thresholds = {t, 0.0f};
      break;
    default:
      s.nodes = {{0, m, 2, 0}, {1, kLeftLeaf | kRightLeaf, 0, 0}, {1, kLeftLeaf | kRightLeaf, 6, 0}};
      s.thresholds = {t, 0.0f, 1.0f};
      break;
  }
  return s;
}

uint32_t expected_root_split_leaf(uint32_t structure, bool root_left, float x1) {
  // Second-level splits never send missing values left.
  if (root_left) {
    if (structure & kLeftLeaf) {
      return (structure & kRightLeaf) ? 4u : 2u;
    }
    return (!std::isnan(x1) && x1 <= 0.0f) ? 0u : 1u;
  }
  if (structure & kRightLeaf) {
    return (structure & kLeftLeaf) ? 5u : 3u;
  }
  if (structure & kLeftLeaf) {
    return (!std::isnan(x1) && x1 <= 0.0f) ? 6u : 7u;
  }
  return (!std::isnan(x1) && x1 <= 1.0f) ? 6u : 7u;
}

struct Routing {
  float threshold;
  float x;
  bool left;  // where a present (non-NaN) value goes
};

std::vector<Routing> routing_cases() {
  const float fmax = std::numeric_limits<float>::max();
  const float tiny = std::numeric_limits<float>::denorm_min();
  return {
      {0.5f, 0.25f, true},
      {0.5f, 0.5f, true},  // equal goes left
      {0.5f, std::nextafter(0.5f, kInf), false},
      {0.5f, std::nextafter(0.5f, -kInf), true},
      {0.5f, -kInf, true},
      {0.5f, kInf, false},
      {0.0f, -0.0f, true},
      {0.0f, 0.0f, true},
      {0.0f, tiny, false},
      {0.0f, -tiny, true},
      {-0.0f, 0.0f, true},  // +0 <= -0 in IEEE
      {-0.0f, -0.0f, true},
      {-0.0f, tiny, false},
      {-kInf, -kInf, true},
      {-kInf, -fmax, false},
      {-kInf, kInf, false},
      {kInf, kInf, true},
      {kInf, fmax, true},
      {kInf, -kInf, true},
      {fmax, kInf, false},
      {-2.5f, -3.0f, true},
      {-2.5f, -2.0f, false},
  };
}

template <typename C>
class ForestLeaf : public ::testing::Test {};
TYPED_TEST_SUITE(ForestLeaf, Configs);

TYPED_TEST(ForestLeaf, EveryFlagCombination) {
  using Word = typename TypeParam::Word;
  using Real = typename TypeParam::Real;
  const float nans[] = {kNaN, -kNaN};
  const float second[] = {-1.0f, 0.0f, 0.5f, 1.0f, 2.0f, kNaN};
  int checked = 0;
  for (uint32_t structure = 0; structure < 4; ++structure) {
    for (bool missing_left : {false, true}) {
      for (const Routing& c : routing_cases()) {
        const Packed<Real> m(root_split<Real>(structure, missing_left, c.threshold));
        const forest<Real> f = m.view();
        ASSERT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
                  status::ok);
        // The same split with the integer comparison of nonnegative_thresholds,
        // which a threshold with its sign bit set (negative or -0) does not pass.
        forest<Real> g = f;
        g.nonnegative_thresholds = 1u;
        const bool nonnegative = !std::signbit(c.threshold);
        ASSERT_EQ((emlearn_gen::forest_validate<Word>(g, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
                  nonnegative ? status::ok : status::bad_table);
        for (float x1 : second) {
          SCOPED_TRACE(::testing::Message()
                       << "structure " << structure << " missing_left " << missing_left
                       << " threshold " << c.threshold << " x1 " << x1);
          const float present[2] = {c.x, x1};
          const uint32_t want = expected_root_split_leaf(structure, c.left, x1);
          EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 0, present), want) << "x0 " << c.x;
          if (nonnegative) {
            EXPECT_EQ(emlearn_gen::forest_leaf<Word>(g, 0, present), want) << "x0 " << c.x;
          }
          if (!std::isnan(x1)) {  // bare comparisons: a row without NaN
            EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 0, present, true), want) << "bare, x0 " << c.x;
            if (nonnegative) {
              EXPECT_EQ(emlearn_gen::forest_leaf<Word>(g, 0, present, true), want) << "bare, x0 " << c.x;
            }
          }
          for (float nan : nans) {
            const float missing[2] = {nan, x1};
            const uint32_t want_missing = expected_root_split_leaf(structure, missing_left, x1);
            EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 0, missing), want_missing) << "x0 NaN";
            if (nonnegative) {
              EXPECT_EQ(emlearn_gen::forest_leaf<Word>(g, 0, missing), want_missing) << "x0 NaN";
            }
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 2 * static_cast<int>(routing_cases().size()) * 6);
}

// The same split routes NaN differently with and without the flag; a
// regression here means scikit-learn's missing-value routing is broken.
TYPED_TEST(ForestLeaf, MissingValueFlagDecidesNaN) {
  using Word = typename TypeParam::Word;
  using Real = typename TypeParam::Real;
  const Packed<Real> right(root_split<Real>(kLeftLeaf | kRightLeaf, false, 1.0f));
  const Packed<Real> left(root_split<Real>(kLeftLeaf | kRightLeaf, true, 1.0f));
  const float x[2] = {kNaN, 0.0f};
  EXPECT_EQ(emlearn_gen::forest_leaf<Word>(right.view(), 0, x), 5u);
  EXPECT_EQ(emlearn_gen::forest_leaf<Word>(left.view(), 0, x), 4u);
  // Present values ignore the flag.
  const float y[2] = {1.0f, 0.0f};
  EXPECT_EQ(emlearn_gen::forest_leaf<Word>(right.view(), 0, y), 4u);
  EXPECT_EQ(emlearn_gen::forest_leaf<Word>(left.view(), 0, y), 4u);
}

// Trees whose root is a leaf: roots >= n_nodes name leaf rows.
TYPED_TEST(ForestLeaf, RootThatIsALeaf) {
  using Word = typename TypeParam::Word;
  using Real = typename TypeParam::Real;
  Spec<Real> s;
  s.layout = Layout{1, 3, 0, 3};
  s.n_features = 2;
  s.leaf_width = 1;
  s.nodes = {{0, kLeftLeaf | kRightLeaf, 0, 0}};  // tree 1: leaves 0 / 1
  s.thresholds = {0.5f};
  s.leaves = iota_leaves<Real>(5);
  s.roots = {1 + 4, 0, 1 + 0, 1 + 2};  // n_nodes == 1
  s.word_bytes = 8;
  const Packed<Real> m(s);
  const forest<Real> f = m.view();
  ASSERT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())), status::ok);
  for (float x0 : {0.0f, 1.0f, kNaN}) {
    const float x[2] = {x0, x0};
    EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 0, x), 4u);
    EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 1, x), x0 <= 0.5f ? 0u : 1u);
    EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 2, x), 0u);  // root == n_nodes
    EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 3, x), 2u);
  }
}

// A forest without any split node (every tree a single leaf).
TYPED_TEST(ForestLeaf, ForestWithoutSplitNodes) {
  using Word = typename TypeParam::Word;
  using Real = typename TypeParam::Real;
  Spec<Real> s;
  s.layout = Layout{0, 0, 0, 2};
  s.n_features = 1;
  s.leaf_width = 2;
  s.leaves = {Real(1), Real(2), Real(3), Real(4), Real(5), Real(6)};
  s.roots = {2, 0, 1};
  s.word_bytes = sizeof(Word);
  const Packed<Real> m(s);
  const forest<Real> f = m.view();
  ASSERT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())), status::ok);
  const float x[1] = {kNaN};
  EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 0, x), 2u);
  EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 1, x), 0u);
  EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 2, x), 1u);
  Real out[2];
  emlearn_gen::forest_mean<Word>(f, x, out);
  EXPECT_EQ(out[0], (Real(5) + Real(1) + Real(3)) / Real(3));
  EXPECT_EQ(out[1], (Real(6) + Real(2) + Real(4)) / Real(3));
}

// The same tree stored with per-node thresholds (thr_bits == 0) and with an
// index into a table of distinct thresholds (thr_bits > 0). The table order
// differs from node order, so reading the wrong entry changes the result.
//   node 0: x0 <= 0.5 ? node 1 : node 2
//   node 1: x1 <= 2.0 ? leaf 0 : leaf 1
//   node 2: x1 <= 2.0 ? leaf 2 : leaf 3
template <typename Real>
Spec<Real> shared_threshold_tree(bool indexed) {
  Spec<Real> s;
  s.n_features = 2;
  s.leaf_width = 1;
  s.leaves = iota_leaves<Real>(4);
  s.roots = {0};
  s.word_bytes = 8;
  if (indexed) {
    s.layout = Layout{1, 2, 2, 1};
    s.thresholds = {2.0f, -1.0f, 0.5f};
    s.nodes = {{0, 0, 2, 2}, {1, kLeftLeaf | kRightLeaf, 0, 0}, {1, kLeftLeaf | kRightLeaf, 2, 0}};
  } else {
    s.layout = Layout{1, 2, 0, 1};
    s.thresholds = {0.5f, 2.0f, 2.0f};
    s.nodes = {{0, 0, 2, 0}, {1, kLeftLeaf | kRightLeaf, 0, 0}, {1, kLeftLeaf | kRightLeaf, 2, 0}};
  }
  return s;
}

TYPED_TEST(ForestLeaf, PerNodeAndIndexedThresholds) {
  using Word = typename TypeParam::Word;
  using Real = typename TypeParam::Real;
  struct Case {
    float x0, x1;
    uint32_t leaf;
  };
  const Case cases[] = {
      {1.0f, 1.5f, 2}, {1.0f, 2.5f, 3}, {0.5f, 2.0f, 0}, {0.0f, 3.0f, 1},
      {kNaN, 0.0f, 2}, {-kInf, kInf, 1}, {0.5f, std::nextafter(2.0f, kInf), 1},
  };
  for (bool indexed : {false, true}) {
    const Packed<Real> m(shared_threshold_tree<Real>(indexed));
    const forest<Real> f = m.view();
    ASSERT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
              status::ok);
    for (const Case& c : cases) {
      const float x[2] = {c.x0, c.x1};
      EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 0, x), c.leaf)
          << (indexed ? "indexed" : "per-node") << " thresholds, x = (" << c.x0 << ", " << c.x1
          << ")";
    }
  }
}

// A chain of nodes (left child a leaf, right child the next node) in a layout
// wide enough to need 64-bit words, with every field's high bits in use.
template <typename Real>
void check_wide_chain(const Layout& layout, uint32_t feature_base, uint32_t ref_base,
                      uint32_t thr_base) {
  const uint32_t k = 12;
  Spec<Real> s;
  s.layout = layout;
  s.leaf_width = 1;
  s.word_bytes = sizeof(uint64_t);
  s.n_features = feature_base + 2000;
  s.thresholds.assign(thr_base + k, 1e30f);
  s.leaves = iota_leaves<Real>(ref_base + k + 1);
  std::vector<uint32_t> features;
  for (uint32_t i = 0; i < k; ++i) {
    const uint32_t feature = feature_base + (i * 613u) % 2000u;
    features.push_back(feature);
    s.thresholds[thr_base + i] = static_cast<float>(i);
    const uint32_t flags = (i + 1 == k) ? (kLeftLeaf | kRightLeaf) : kLeftLeaf;
    s.nodes.push_back(Node{feature, flags, ref_base + i, thr_base + i});
  }
  s.roots = {0};
  const Packed<Real> m(s);
  const forest<Real> f = m.view();
  ASSERT_GT(record_bits(layout) + 7u, 32u) << "layout should need 64-bit words";
  ASSERT_EQ((emlearn_gen::forest_validate<uint64_t>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
            status::ok);
  EXPECT_EQ((emlearn_gen::forest_validate<uint32_t>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
            status::bad_table);
  std::vector<float> x(s.n_features, 0.0f);
  // Going right at nodes 0..j-1 and left at node j ends in leaf ref_base + j.
  for (uint32_t j = 0; j <= k; ++j) {
    for (uint32_t i = 0; i < k; ++i) {
      x[features[i]] = static_cast<float>(i) + (i < j ? 0.5f : 0.0f);
    }
    EXPECT_EQ(emlearn_gen::forest_leaf<uint64_t>(f, 0, x.data()), ref_base + j) << "j " << j;
  }
}

TEST(ForestLeafWide, RecordsAcrossManyBytes) {
  // 11 + 3 + 13 + 9 = 36 bits per record.
  check_wide_chain<float>(Layout{11, 13, 9, 1}, 0, 5000, 400);
  // 20 + 3 + 20 + 14 = 57 bits per record: the widest a 64-bit word reads.
  check_wide_chain<double>(Layout{20, 20, 14, 1}, (1u << 19), (1u << 19) + 3, (1u << 13) + 5);
}

// ---------------------------------------------------------------------------
// Random trees against a plain pointer walk

struct RefTree {
  std::vector<int> left, right;  // -1 for leaves
  std::vector<uint32_t> feature;
  std::vector<float> threshold;
  std::vector<bool> missing_left;
  std::vector<std::vector<double>> value;  // leaf values (exact in float)
};

class Lcg {
 public:
  explicit Lcg(uint64_t seed) : state_(seed) {}
  uint32_t next() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state_ >> 33);
  }
  uint32_t below(uint32_t n) { return next() % n; }

 private:
  uint64_t state_;
};

const float kGrid[] = {-2.0f, -1.0f, -0.0f, 0.0f, 0.5f, 1.0f, 3.0f, -kInf, kInf};

int grow(RefTree& t, Lcg& rng, int depth, uint32_t n_features, uint16_t leaf_width) {
  const int id = static_cast<int>(t.left.size());
  t.left.push_back(-1);
  t.right.push_back(-1);
  t.feature.push_back(0);
  t.threshold.push_back(0.0f);
  t.missing_left.push_back(false);
  t.value.emplace_back();
  if (depth == 0 || (depth < 6 && rng.below(4) == 0)) {
    for (uint16_t j = 0; j < leaf_width; ++j) {
      // Multiples of 1/16: exact in float and double, and often repeated,
      // as class fractions are.
      t.value[id].push_back(static_cast<double>(rng.below(256)) / 16.0 - 8.0);
    }
    return id;
  }
  t.feature[id] = rng.below(n_features);
  t.threshold[id] = kGrid[rng.below(sizeof(kGrid) / sizeof(kGrid[0]))];
  t.missing_left[id] = rng.below(2) == 0;
  const int l = grow(t, rng, depth - 1, n_features, leaf_width);
  const int r = grow(t, rng, depth - 1, n_features, leaf_width);
  t.left[id] = l;
  t.right[id] = r;
  return id;
}

int reference_walk(const RefTree& t, const float* x) {
  int n = 0;
  while (t.left[n] >= 0) {
    const float v = x[t.feature[n]];
    const bool go_left = std::isnan(v) ? bool(t.missing_left[n]) : (v <= t.threshold[n]);
    n = go_left ? t.left[n] : t.right[n];
  }
  return n;
}

uint8_t bits_for(uint64_t max_value) {
  uint8_t b = 0;
  while (max_value >> b) {
    ++b;
  }
  return b;
}

// Packs trees into the documented layout: inner nodes in pre-order, the left
// child of an inner node being the next record; leaf rows appended as met,
// the two leaves of a node adjacent.
template <typename Real>
Spec<Real> pack_reference(const std::vector<RefTree>& trees, uint32_t n_features,
                          uint16_t leaf_width, bool indexed) {
  Spec<Real> s;
  s.n_features = n_features;
  s.leaf_width = leaf_width;
  s.word_bytes = 8;
  std::vector<uint64_t> root_leaf(trees.size(), 0);
  std::vector<bool> root_is_leaf(trees.size(), false);
  std::vector<float> node_thresholds;
  auto add_leaf = [&s](const std::vector<double>& v) {
    const uint32_t row = static_cast<uint32_t>(s.leaves.size() / s.leaf_width);
    for (double d : v) {
      s.leaves.push_back(static_cast<Real>(d));
    }
    return row;
  };
  for (size_t ti = 0; ti < trees.size(); ++ti) {
    const RefTree& t = trees[ti];
    if (t.left[0] < 0) {
      root_is_leaf[ti] = true;
      root_leaf[ti] = add_leaf(t.value[0]);
      s.roots.push_back(0);
      continue;
    }
    const uint32_t base = static_cast<uint32_t>(s.nodes.size());
    s.roots.push_back(base);
    std::vector<int> order;
    std::vector<int> stack = {0};
    while (!stack.empty()) {
      const int n = stack.back();
      stack.pop_back();
      order.push_back(n);
      if (t.left[t.right[n]] >= 0) stack.push_back(t.right[n]);
      if (t.left[t.left[n]] >= 0) stack.push_back(t.left[n]);
    }
    std::map<int, uint32_t> position;
    for (size_t i = 0; i < order.size(); ++i) {
      position[order[i]] = base + static_cast<uint32_t>(i);
    }
    for (int n : order) {
      const int l = t.left[n];
      const int r = t.right[n];
      const bool lleaf = t.left[l] < 0;
      const bool rleaf = t.left[r] < 0;
      uint32_t flags = (lleaf ? kLeftLeaf : 0u) | (rleaf ? kRightLeaf : 0u);
      if (t.missing_left[n]) flags |= kMissingLeft;
      uint32_t ref;
      if (lleaf && rleaf) {
        ref = add_leaf(t.value[l]);
        add_leaf(t.value[r]);
      } else if (lleaf) {
        ref = add_leaf(t.value[l]);
      } else if (rleaf) {
        ref = add_leaf(t.value[r]);
      } else {
        ref = position[r] - position[n];
      }
      s.nodes.push_back(Node{t.feature[n], flags, ref, 0});
      node_thresholds.push_back(t.threshold[n]);
    }
  }
  const uint32_t n_nodes = static_cast<uint32_t>(s.nodes.size());
  for (size_t ti = 0; ti < trees.size(); ++ti) {
    if (root_is_leaf[ti]) s.roots[ti] = n_nodes + root_leaf[ti];
  }
  uint64_t max_ref = 0, max_root = 0;
  for (const Node& n : s.nodes) max_ref = n.ref > max_ref ? n.ref : max_ref;
  for (uint64_t r : s.roots) max_root = r > max_root ? r : max_root;
  s.layout.feature_bits = bits_for(n_features - 1);
  s.layout.ref_bits = bits_for(max_ref);
  s.layout.root_bits = bits_for(max_root);
  if (indexed && n_nodes > 0) {
    // Distinct thresholds in order of first use (any order is valid).
    for (size_t i = 0; i < s.nodes.size(); ++i) {
      uint32_t k = 0;
      while (k < s.thresholds.size() &&
             memcmp(&s.thresholds[k], &node_thresholds[i], sizeof(float)) != 0) {
        ++k;
      }
      if (k == s.thresholds.size()) s.thresholds.push_back(node_thresholds[i]);
      s.nodes[i].thr = k;
    }
    s.layout.thr_bits = bits_for(s.thresholds.size() - 1);
    if (s.layout.thr_bits == 0) s.layout.thr_bits = 1;
  } else {
    s.thresholds = node_thresholds;
    s.layout.thr_bits = 0;
  }
  return s;
}

// Turns leaf rows into the dictionary form: distinct values (told apart by
// their bits) in order of first use, and one code per row entry.
template <typename Real>
void use_value_dictionary(Spec<Real>& s) {
  std::vector<Real> values;
  std::vector<uint64_t> codes;
  for (const Real& v : s.leaves) {
    size_t k = 0;
    while (k < values.size() && memcmp(&values[k], &v, sizeof(Real)) != 0) {
      ++k;
    }
    if (k == values.size()) values.push_back(v);
    codes.push_back(k);
  }
  s.leaves = values;
  s.leaf_codes = codes;
  s.value_bits = bits_for(values.size() - 1);
  if (s.value_bits == 0) s.value_bits = 1;
}

template <typename Word, typename Real>
void check_random_forest(uint64_t seed, bool indexed, bool coded) {
  Lcg rng(seed);
  const uint32_t n_features = 5;
  const uint16_t leaf_width = 3;
  std::vector<RefTree> trees(7);
  for (RefTree& t : trees) {
    grow(t, rng, static_cast<int>(rng.below(8)), n_features, leaf_width);
  }
  Spec<Real> spec = pack_reference<Real>(trees, n_features, leaf_width, indexed);
  if (coded) {
    use_value_dictionary(spec);
  }
  const Packed<Real> m(spec);
  const forest<Real> f = m.view();
  ASSERT_EQ(f.value_bits != 0, coded);
  ASSERT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())), status::ok);

  const float inputs[] = {-2.0f, -1.5f, -1.0f, -0.0f, 0.0f, 0.25f, 0.5f, 1.0f,
                          2.0f,  3.0f,  4.0f,  -kInf, kInf, kNaN};
  const uint32_t n_inputs = sizeof(inputs) / sizeof(inputs[0]);
  for (int sample = 0; sample < 300; ++sample) {
    float x[n_features];
    for (uint32_t j = 0; j < n_features; ++j) {
      x[j] = inputs[rng.below(n_inputs)];
    }
    std::vector<Real> expected(leaf_width, Real(0));
    for (uint32_t t = 0; t < f.n_trees; ++t) {
      const std::vector<double>& want = trees[t].value[reference_walk(trees[t], x)];
      const uint32_t leaf = emlearn_gen::forest_leaf<Word>(f, t, x);
      ASSERT_LT(leaf, f.n_leaves);
      for (uint16_t j = 0; j < leaf_width; ++j) {
        ASSERT_EQ(spec.row_value(leaf, j), static_cast<Real>(want[j]))
            << "seed " << seed << " sample " << sample << " tree " << t;
        expected[j] += static_cast<Real>(want[j]);
      }
    }
    Real out[leaf_width];
    emlearn_gen::forest_mean<Word>(f, x, out);
    for (uint16_t j = 0; j < leaf_width; ++j) {
      EXPECT_EQ(out[j], expected[j] / static_cast<Real>(f.n_trees)) << "seed " << seed;
    }
  }
}

template <typename C>
class RandomForests : public ::testing::Test {};
TYPED_TEST_SUITE(RandomForests, Configs);

TYPED_TEST(RandomForests, MatchPointerWalk) {
  using Word = typename TypeParam::Word;
  using Real = typename TypeParam::Real;
  for (uint64_t seed = 1; seed <= 25; ++seed) {
    for (bool indexed : {false, true}) {
      for (bool coded : {false, true}) {
        check_random_forest<Word, Real>(seed, indexed, coded);
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
}

// forest_mean_batch walks the trees in the outer loop over blocks of rows;
// every row must still equal forest_mean bit for bit, across block
// boundaries, and nothing may be written past the n rows asked for.
template <typename Word, typename Real>
void check_batch(uint64_t seed) {
  Lcg rng(seed);
  const uint32_t n_features = 5;
  const uint16_t leaf_width = 3;
  std::vector<RefTree> trees(9);
  for (RefTree& t : trees) {
    grow(t, rng, static_cast<int>(rng.below(8)), n_features, leaf_width);
  }
  Spec<Real> spec = pack_reference<Real>(trees, n_features, leaf_width, seed % 2 == 0);
  if (seed % 3 != 0) {
    use_value_dictionary(spec);
  }
  const Packed<Real> m(spec);
  forest<Real> f = m.view();
  ASSERT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())), status::ok);
  // Leaf values of full precision and mixed magnitudes, so that summing the
  // trees in another order changes the rounded result.
  std::vector<Real> leaves(f.n_values);
  for (Real& v : leaves) {
    const Real unit = static_cast<Real>(rng.next()) / static_cast<Real>(4294967296.0);
    const int scale = static_cast<int>(rng.below(41)) - 20;
    v = std::ldexp(rng.below(2) ? unit : -unit, scale);
  }
  f.leaves = leaves.data();
  const float inputs[] = {-2.0f, -1.0f, -0.0f, 0.0f, 0.5f, 1.0f, 2.0f, 3.0f, kInf, kNaN};
  const uint32_t n_inputs = sizeof(inputs) / sizeof(inputs[0]);
  const Real sentinel = Real(-12345.5);
  for (uint32_t n : {0u, 1u, 2u, 63u, 64u, 65u, 128u, 129u, 200u}) {
    std::vector<float> X(static_cast<size_t>(n) * n_features);
    for (float& v : X) {
      v = inputs[rng.below(n_inputs)];
    }
    std::vector<Real> out(static_cast<size_t>(n) * leaf_width + 5, sentinel);
    emlearn_gen::forest_mean_batch<Word>(f, X.data(), n, out.data());
    for (uint32_t i = 0; i < n; ++i) {
      Real one[leaf_width];
      emlearn_gen::forest_mean<Word>(f, X.data() + static_cast<size_t>(i) * n_features, one);
      for (uint16_t j = 0; j < leaf_width; ++j) {
        ASSERT_TRUE(same_bits(out[static_cast<size_t>(i) * leaf_width + j], one[j]))
            << "seed " << seed << " n " << n << " row " << i << " column " << j << ": batch "
            << out[static_cast<size_t>(i) * leaf_width + j] << ", single " << one[j];
      }
    }
    for (size_t k = static_cast<size_t>(n) * leaf_width; k < out.size(); ++k) {
      ASSERT_TRUE(same_bits(out[k], sentinel)) << "wrote past row " << n;
    }
  }
}

TYPED_TEST(RandomForests, BatchEqualsSingleRows) {
  using Word = typename TypeParam::Word;
  using Real = typename TypeParam::Real;
  for (uint64_t seed = 100; seed < 106; ++seed) {
    check_batch<Word, Real>(seed);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// float64 models on targets whose double has 32 bits keep their leaves as
// soft_double; the same tables must give the bits the hardware double gives.
template <typename Word>
void check_soft_double_forest(uint64_t seed) {
  using emlearn_gen::soft_double;
  Lcg rng(seed);
  const uint32_t n_features = 5;
  const uint16_t leaf_width = 3;
  std::vector<RefTree> trees(11);
  for (RefTree& t : trees) {
    grow(t, rng, static_cast<int>(rng.below(8)), n_features, leaf_width);
  }
  Spec<double> spec = pack_reference<double>(trees, n_features, leaf_width, seed % 2 == 0);
  if (seed % 4 < 2) {
    use_value_dictionary(spec);
  }
  const Packed<double> m(spec);
  forest<double> hard = m.view();
  // Leaf values with full 53-bit significands, so sums and the division round.
  std::vector<double> hard_leaves(hard.n_values);
  std::vector<soft_double> soft_leaves(hard_leaves.size());
  for (size_t k = 0; k < hard_leaves.size(); ++k) {
    const double v = (static_cast<double>(rng.next()) + static_cast<double>(rng.next()) / 4294967296.0) /
                     static_cast<double>(1u + rng.below(1000));
    hard_leaves[k] = (rng.below(2) == 0) ? v : -v;
    memcpy(&soft_leaves[k].bits, &hard_leaves[k], sizeof(double));
  }
  hard.leaves = hard_leaves.data();
  forest<soft_double> soft = forest<soft_double>();
  soft.nodes = hard.nodes;
  soft.thresholds = hard.thresholds;
  soft.leaves = soft_leaves.data();
  soft.leaf_codes = hard.leaf_codes;
  soft.roots = hard.roots;
  soft.n_nodes = hard.n_nodes;
  soft.n_thresholds = hard.n_thresholds;
  soft.n_leaves = hard.n_leaves;
  soft.n_values = hard.n_values;
  soft.n_trees = hard.n_trees;
  soft.n_features = hard.n_features;
  soft.leaf_width = hard.leaf_width;
  soft.feature_bits = hard.feature_bits;
  soft.ref_bits = hard.ref_bits;
  soft.thr_bits = hard.thr_bits;
  soft.root_bits = hard.root_bits;
  soft.value_bits = hard.value_bits;
  ASSERT_EQ((emlearn_gen::forest_validate<Word>(soft, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())), status::ok);

  const float inputs[] = {-2.0f, -1.0f, -0.0f, 0.0f, 0.5f, 1.0f, 2.0f, 3.0f, -kInf, kNaN};
  const uint32_t n_inputs = sizeof(inputs) / sizeof(inputs[0]);
  const uint32_t n = 70;  // more than one block of forest_mean_batch
  std::vector<float> X(n * n_features);
  for (float& v : X) {
    v = inputs[rng.below(n_inputs)];
  }
  std::vector<soft_double> soft_batch(n * leaf_width);
  std::vector<double> hard_batch(n * leaf_width);
  emlearn_gen::forest_mean_batch<Word>(soft, X.data(), n, soft_batch.data());
  emlearn_gen::forest_mean_batch<Word>(hard, X.data(), n, hard_batch.data());
  for (uint32_t i = 0; i < n; ++i) {
    soft_double s[leaf_width];
    double h[leaf_width];
    emlearn_gen::forest_mean<Word>(soft, X.data() + i * n_features, s);
    emlearn_gen::forest_mean<Word>(hard, X.data() + i * n_features, h);
    for (uint16_t j = 0; j < leaf_width; ++j) {
      uint64_t hb;
      memcpy(&hb, &h[j], sizeof(hb));
      ASSERT_EQ(s[j].bits, hb) << "seed " << seed << " row " << i << " column " << j;
      memcpy(&hb, &hard_batch[i * leaf_width + j], sizeof(hb));
      ASSERT_EQ(soft_batch[i * leaf_width + j].bits, hb) << "batch, seed " << seed << " row " << i;
    }
    EXPECT_EQ(emlearn_gen::argmax(s, leaf_width), emlearn_gen::argmax(h, leaf_width));
  }
}

TEST(SoftDoubleForest, MeanEqualsHardwareDouble) {
  for (uint64_t seed = 200; seed < 208; ++seed) {
    check_soft_double_forest<uint32_t>(seed);
    if (::testing::Test::HasFatalFailure()) return;
    check_soft_double_forest<uint64_t>(seed);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// ---------------------------------------------------------------------------
// forest_mean

// Three trees, each one split on its own feature with leaves (2t, 2t + 1).
// Leaf values make summation order and division-versus-reciprocal visible.
template <typename Real>
Spec<Real> mean_forest(const std::vector<Real>& leaves, uint16_t leaf_width) {
  Spec<Real> s;
  s.layout = Layout{2, 3, 0, 2};
  s.n_features = 3;
  s.leaf_width = leaf_width;
  s.nodes = {{0, kLeftLeaf | kRightLeaf, 0, 0},
             {1, kLeftLeaf | kRightLeaf, 2, 0},
             {2, kLeftLeaf | kRightLeaf, 4, 0}};
  s.thresholds = {0.0f, 0.0f, 0.0f};
  s.roots = {0, 1, 2};
  s.leaves = leaves;
  s.word_bytes = 8;
  return s;
}

template <typename Real>
class ForestMean : public ::testing::Test {};
using Reals = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ForestMean, Reals);

TYPED_TEST(ForestMean, SumsInTreeOrderThenDivides) {
  using Real = TypeParam;
  // big + 1 == big in Real, so the order of the additions shows.
  const Real big = Real(4) / std::numeric_limits<Real>::epsilon();
  const uint16_t w = 4;
  // Leaves reached by x = (-1, +1, -1): rows 0, 3 and 4.
  std::vector<Real> leaves(6 * w, Real(-1000));
  const Real row0[w] = {Real(1), Real(0.1), Real(0.3), Real(1)};
  const Real row3[w] = {big, Real(0.7), Real(0), Real(0.5)};
  const Real row4[w] = {-big, Real(0.2), Real(0), Real(0.25)};
  for (uint16_t j = 0; j < w; ++j) {
    leaves[0 * w + j] = row0[j];
    leaves[3 * w + j] = row3[j];
    leaves[4 * w + j] = row4[j];
  }
  const Packed<Real> m(mean_forest<Real>(leaves, w));
  const forest<Real> f = m.view();
  ASSERT_EQ((emlearn_gen::forest_validate<uint32_t>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
            status::ok);

  Real expected[w], reversed[w], reciprocal[w];
  bool order_shows = false, division_shows = false;
  const Real n = Real(3);
  for (uint16_t j = 0; j < w; ++j) {
    Real acc = Real(0);
    acc += row0[j];
    acc += row3[j];
    acc += row4[j];
    expected[j] = acc / n;
    reciprocal[j] = acc * (Real(1) / n);
    reversed[j] = ((row4[j] + row3[j]) + row0[j]) / n;
    order_shows = order_shows || !same_bits(expected[j], reversed[j]);
    division_shows = division_shows || !same_bits(expected[j], reciprocal[j]);
  }
  // The data must be able to tell a wrong kernel from a right one.
  ASSERT_TRUE(order_shows);
  ASSERT_TRUE(division_shows);

  Real out[w];
  for (uint16_t j = 0; j < w; ++j) {
    out[j] = std::numeric_limits<Real>::quiet_NaN();  // must be overwritten
  }
  const float x[3] = {-1.0f, 1.0f, -1.0f};
  emlearn_gen::forest_mean<uint32_t>(f, x, out);
  for (uint16_t j = 0; j < w; ++j) {
    EXPECT_TRUE(same_bits(out[j], expected[j]))
        << "column " << j << ": got " << out[j] << ", expected " << expected[j];
  }
  Real out64[w];
  emlearn_gen::forest_mean<uint64_t>(f, x, out64);
  EXPECT_EQ(memcmp(out, out64, sizeof(out)), 0);
}

TYPED_TEST(ForestMean, EachTreeContributesItsLeaf) {
  using Real = TypeParam;
  const Packed<Real> m(mean_forest<Real>(
      {Real(1), Real(2), Real(4), Real(8), Real(16), Real(32)}, 1));
  const forest<Real> f = m.view();
  const float inputs[] = {-1.0f, 1.0f, kNaN};
  for (float a : inputs) {
    for (float b : inputs) {
      for (float c : inputs) {
        const float x[3] = {a, b, c};
        // NaN goes right: these splits do not send missing values left.
        const Real l0 = (a <= 0.0f) ? Real(1) : Real(2);
        const Real l1 = (b <= 0.0f) ? Real(4) : Real(8);
        const Real l2 = (c <= 0.0f) ? Real(16) : Real(32);
        Real out[1] = {Real(-1)};
        emlearn_gen::forest_mean<uint32_t>(f, x, out);
        EXPECT_EQ(out[0], (l0 + l1 + l2) / Real(3)) << a << " " << b << " " << c;
      }
    }
  }
}

// Leaf rows stored as codes into a dictionary of values give exactly the
// rows stored directly; 13-bit codes straddle bytes.
TYPED_TEST(ForestMean, DictionaryCodesGiveTheSameRows) {
  using Real = TypeParam;
  const uint16_t w = 3;
  const uint32_t n_values = 5000;
  std::vector<Real> values(n_values);
  for (uint32_t i = 0; i < n_values; ++i) {
    values[i] = static_cast<Real>(i) / Real(7) - Real(300);
  }
  const uint64_t codes[6 * w] = {4999, 0, 1234, 17, 4096, 2048, 3, 4998, 777,
                                 1, 2, 4095, 2500, 2500, 2500, 9, 4321, 64};
  Spec<Real> coded = mean_forest<Real>(values, w);
  coded.value_bits = 13;
  coded.leaf_codes.assign(codes, codes + 6 * w);
  std::vector<Real> rows;
  for (uint64_t c : codes) rows.push_back(values[c]);
  const Packed<Real> mc(coded);
  const Packed<Real> md(mean_forest<Real>(rows, w));
  const forest<Real> fc = mc.view();
  const forest<Real> fd = md.view();
  ASSERT_EQ(fc.n_leaves, 6u);
  ASSERT_EQ(fc.n_values, n_values);
  ASSERT_EQ((emlearn_gen::forest_validate<uint32_t>(fc, mc.nodes_bytes(), mc.roots_bytes(), mc.codes_bytes())),
            status::ok);
  const float inputs[] = {-1.0f, 1.0f};
  for (float a : inputs) {
    for (float b : inputs) {
      for (float c : inputs) {
        const float x[3] = {a, b, c};
        Real got[w], want[w];
        emlearn_gen::forest_mean<uint32_t>(fc, x, got);
        emlearn_gen::forest_mean<uint32_t>(fd, x, want);
        // And by hand: rows 2t (left) or 2t + 1 (right) of tree t.
        const uint32_t r0 = a <= 0.0f ? 0u : 1u, r1 = b <= 0.0f ? 2u : 3u, r2 = c <= 0.0f ? 4u : 5u;
        for (uint16_t j = 0; j < w; ++j) {
          Real acc = Real(0);
          acc += values[codes[r0 * w + j]];
          acc += values[codes[r1 * w + j]];
          acc += values[codes[r2 * w + j]];
          EXPECT_TRUE(same_bits(got[j], want[j])) << got[j] << " vs " << want[j];
          EXPECT_TRUE(same_bits(got[j], acc / Real(3))) << got[j] << " vs " << acc / Real(3);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// forest_validate

// Two trees over 5 split nodes, 3 features, 8 leaf rows of width 2:
//   0: both inner, right child at node 2 (ref 2)
//   1: both leaves, rows 0 / 1
//   2: left leaf row 2, right child node 3
//   3: left child node 4, right leaf row 3
//   4: both leaves, rows 4 / 5
// Tree 1 is leaf row 7; tree 2 starts at node 4. The bit strings are exactly
// as long as loads of sizeof(Word) bytes need.
template <typename Word>
Spec<float> valid_spec() {
  Spec<float> s;
  s.layout = Layout{2, 4, 0, 4};
  s.n_features = 3;
  s.leaf_width = 2;
  s.nodes = {{0, 0, 2, 0},
             {1, kLeftLeaf | kRightLeaf, 0, 0},
             {2, kLeftLeaf | kMissingLeft, 2, 0},
             {0, kRightLeaf, 3, 0},
             {1, kLeftLeaf | kRightLeaf, 4, 0}};
  s.thresholds = {0.0f, 1.0f, 2.0f, 3.0f, 4.0f};
  s.leaves.assign(8 * 2, 0.5f);
  s.roots = {0, 5 + 7, 4};
  s.word_bytes = sizeof(Word);
  return s;
}

// The same forest with its 8 x 2 leaf entries coded into 5 distinct values.
template <typename Word>
Spec<float> coded_valid_spec() {
  Spec<float> s = valid_spec<Word>();
  s.leaves = {0.5f, 1.5f, 2.5f, 3.5f, 4.5f};
  s.value_bits = 3;
  s.leaf_codes.clear();
  for (uint64_t k = 0; k < 16; ++k) s.leaf_codes.push_back(k % 5);
  return s;
}

template <typename Word>
status validate(const Spec<float>& s) {
  const Packed<float> m(s);
  return emlearn_gen::forest_validate<Word>(m.view(), m.nodes_bytes(), m.roots_bytes(), m.codes_bytes());
}

template <typename Word>
class ForestValidate : public ::testing::Test {};
using Words = ::testing::Types<uint32_t, uint64_t>;
TYPED_TEST_SUITE(ForestValidate, Words);

TYPED_TEST(ForestValidate, AcceptsAValidForest) {
  using Word = TypeParam;
  const Spec<float> s = valid_spec<Word>();
  const Packed<float> m(s);
  const forest<float> f = m.view();
  // 5 records of 9 bits: the last starts in byte 4.
  ASSERT_EQ(m.nodes_bytes(), 4u + sizeof(Word));
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())), status::ok);
  // And the forest it accepted walks as described.
  const float x[3] = {1.0f, 0.0f, 5.0f};  // node 0 right -> node 2 right -> node 3 left -> node 4
  EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 0, x), 4u);
  EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 1, x), 7u);
  EXPECT_EQ(emlearn_gen::forest_leaf<Word>(f, 2, x), 4u);
}

TYPED_TEST(ForestValidate, BadFeatureIndex) {
  using Word = TypeParam;
  Spec<float> s = valid_spec<Word>();
  s.nodes[3].feature = 3;  // n_features == 3
  EXPECT_EQ(validate<Word>(s), status::bad_table);
  s.nodes[3].feature = 2;
  EXPECT_EQ(validate<Word>(s), status::ok);
  // The same tables with one feature fewer declared.
  s = valid_spec<Word>();
  const Packed<float> m(s);
  forest<float> f = m.view();
  f.n_features = 2;  // node 2 uses feature 2
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
            status::bad_table);
}

TYPED_TEST(ForestValidate, LeafRefOutOfRange) {
  using Word = TypeParam;
  Spec<float> s = valid_spec<Word>();
  s.nodes[2].ref = 8;  // left leaf; n_leaves == 8
  EXPECT_EQ(validate<Word>(s), status::bad_table);
  s.nodes[2].ref = 7;
  EXPECT_EQ(validate<Word>(s), status::ok);

  s = valid_spec<Word>();
  s.nodes[3].ref = 8;  // right leaf
  EXPECT_EQ(validate<Word>(s), status::bad_table);

  s = valid_spec<Word>();
  s.nodes[4].ref = 7;  // both leaves: ref + 1 == 8 is out of range
  EXPECT_EQ(validate<Word>(s), status::bad_table);
  s.nodes[4].ref = 6;
  EXPECT_EQ(validate<Word>(s), status::ok);
}

TYPED_TEST(ForestValidate, RightChildRef) {
  using Word = TypeParam;
  Spec<float> s = valid_spec<Word>();
  for (uint32_t ref : {0u, 1u}) {  // would not lie after the left child
    s.nodes[0].ref = ref;
    EXPECT_EQ(validate<Word>(s), status::bad_table) << "ref " << ref;
  }
  for (uint32_t ref : {5u, 6u, 15u}) {  // past the last node
    s.nodes[0].ref = ref;
    EXPECT_EQ(validate<Word>(s), status::bad_table) << "ref " << ref;
  }
  for (uint32_t ref : {2u, 3u, 4u}) {
    s.nodes[0].ref = ref;
    EXPECT_EQ(validate<Word>(s), status::ok) << "ref " << ref;
  }
}

TYPED_TEST(ForestValidate, LastNodeNeedsBothLeaves) {
  using Word = TypeParam;
  for (uint32_t flags : {0u, kLeftLeaf, kRightLeaf, kLeftLeaf | kMissingLeft}) {
    Spec<float> s = valid_spec<Word>();
    s.nodes[4].flags = flags;  // would need a node 5
    if (flags == 0) s.nodes[4].ref = 2;
    EXPECT_EQ(validate<Word>(s), status::bad_table) << "flags " << flags;
  }
}

TYPED_TEST(ForestValidate, RootOutOfRange) {
  using Word = TypeParam;
  Spec<float> s = valid_spec<Word>();
  s.roots[1] = 5 + 8;  // n_nodes + n_leaves
  EXPECT_EQ(validate<Word>(s), status::bad_table);
  s.roots[1] = 5 + 8 - 1;
  EXPECT_EQ(validate<Word>(s), status::ok);
}

TYPED_TEST(ForestValidate, TruncatedBuffers) {
  using Word = TypeParam;
  const Packed<float> m(valid_spec<Word>());
  const forest<float> f = m.view();
  const size_t nodes_need = m.nodes_bytes();
  const size_t roots_need = m.roots_bytes();
  ASSERT_EQ(roots_need, 1u + sizeof(Word));  // 3 roots of 4 bits: the last starts in byte 1
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, nodes_need, roots_need, 0)), status::ok);
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, nodes_need - 1, roots_need, 0)),
            status::size_mismatch);
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, nodes_need, roots_need - 1, 0)),
            status::size_mismatch);
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, 0, roots_need, 0)), status::size_mismatch);
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, nodes_need, 0, 0)), status::size_mismatch);
}

TYPED_TEST(ForestValidate, TooFewPerNodeThresholds) {
  using Word = TypeParam;
  const Packed<float> m(valid_spec<Word>());
  forest<float> f = m.view();
  f.n_thresholds = f.n_nodes - 1;
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
            status::size_mismatch);
}

TYPED_TEST(ForestValidate, ThresholdIndexOutOfRange) {
  using Word = TypeParam;
  Spec<float> s = valid_spec<Word>();
  s.layout.thr_bits = 2;
  s.thresholds = {0.0f, 1.0f, 2.0f};
  for (size_t i = 0; i < s.nodes.size(); ++i) s.nodes[i].thr = static_cast<uint32_t>(i % 3);
  EXPECT_EQ(validate<Word>(s), status::ok);
  s.nodes[2].thr = 3;
  EXPECT_EQ(validate<Word>(s), status::bad_table);
}

TYPED_TEST(ForestValidate, EmptyOrZeroSizes) {
  using Word = TypeParam;
  const Packed<float> m(valid_spec<Word>());
  const forest<float> good = m.view();
  forest<float> f = good;
  f.n_trees = 0;
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
            status::bad_argument);
  f = good;
  f.leaf_width = 0;
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
            status::bad_argument);
  f = good;
  f.n_leaves = 0;
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
            status::bad_argument);
  f = good;
  f.n_features = 0;
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
            status::bad_argument);
}

TYPED_TEST(ForestValidate, LeafCodes) {
  using Word = TypeParam;
  Spec<float> s = coded_valid_spec<Word>();
  EXPECT_EQ(validate<Word>(s), status::ok);
  s.leaf_codes[9] = 5;  // n_values == 5
  EXPECT_EQ(validate<Word>(s), status::bad_table);
  s.leaf_codes[9] = 4;
  EXPECT_EQ(validate<Word>(s), status::ok);
  s.leaf_codes[15] = 7;  // the last code
  EXPECT_EQ(validate<Word>(s), status::bad_table);

  const Packed<float> m(coded_valid_spec<Word>());
  const forest<float> good = m.view();
  // 16 codes of 3 bits: the last starts in byte 5.
  ASSERT_EQ(m.codes_bytes(), 5u + sizeof(Word));
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(good, m.nodes_bytes(), m.roots_bytes(),
                                                m.codes_bytes() - 1)),
            status::size_mismatch);
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(good, m.nodes_bytes(), m.roots_bytes(), 0)),
            status::size_mismatch);
  forest<float> f = good;
  f.n_values = 0;
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
            status::bad_argument);
  f = good;
  f.n_values = 4;  // code 4 is used
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
            status::bad_table);
}

TYPED_TEST(ForestValidate, RowCountWithoutCodes) {
  using Word = TypeParam;
  const Packed<float> m(valid_spec<Word>());
  forest<float> f = m.view();
  ASSERT_EQ(f.n_values, 16u);
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), 0)), status::ok);
  for (uint32_t n_values : {15u, 17u}) {  // must be n_leaves * leaf_width
    f.n_values = n_values;
    EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), 0)),
              status::size_mismatch)
        << n_values;
  }
}

// A record or root field wider than the word can read at any bit offset.
TEST(ForestValidateWords, FieldTooWideForWord) {
  Spec<float> s = valid_spec<uint64_t>();
  s.layout.ref_bits = 21;  // 2 + 3 + 21 = 26 bits: 26 + 7 > 32
  EXPECT_EQ(validate<uint32_t>(s), status::bad_table);
  EXPECT_EQ(validate<uint64_t>(s), status::ok);
  s.layout.ref_bits = 20;  // 25 bits: the widest a 32-bit word reads
  EXPECT_EQ(validate<uint32_t>(s), status::ok);

  s = valid_spec<uint64_t>();
  s.layout.root_bits = 26;
  EXPECT_EQ(validate<uint32_t>(s), status::bad_table);
  EXPECT_EQ(validate<uint64_t>(s), status::ok);

  s = coded_valid_spec<uint64_t>();
  s.value_bits = 26;
  EXPECT_EQ(validate<uint32_t>(s), status::bad_table);
  EXPECT_EQ(validate<uint64_t>(s), status::ok);
  s.value_bits = 25;
  EXPECT_EQ(validate<uint32_t>(s), status::ok);
}

// Whatever single bit of the tables is flipped, either validation rejects
// the forest or every walk stays inside the tables and ends in a leaf row.
// Buffers are exactly as long as the layout needs, so a sanitizer build
// also catches any read past them.
TYPED_TEST(ForestValidate, AcceptedForestsStayInBounds) {
  using Word = TypeParam;
  const float inputs[] = {-kInf, -1.0f, 0.0f, 0.5f, 1.5f, 2.5f, 3.5f, kInf, kNaN};
  const uint32_t n_inputs = sizeof(inputs) / sizeof(inputs[0]);
  int accepted = 0, rejected = 0;
  // Tables 0..2: node records, roots and leaf codes of the coded forest;
  // 3 and 4: node records and roots of the forest without codes.
  for (int table = 0; table < 5; ++table) {
    Packed<float> m(table < 3 ? coded_valid_spec<Word>() : valid_spec<Word>());
    std::vector<uint8_t>& bits =
        (table % 3 == 0) ? m.node_bits() : (table % 3 == 1) ? m.root_bits() : m.code_bits();
    const size_t data_bits = (table % 3 == 0) ? 5u * 9u : (table % 3 == 1) ? 3u * 4u : 16u * 3u;
    for (size_t b = 0; b < data_bits; ++b) {
      bits[b / 8] = static_cast<uint8_t>(bits[b / 8] ^ (1u << (b % 8)));
      const forest<float> f = m.view();
      if (emlearn_gen::forest_validate<Word>(f, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes()) == status::ok) {
        ++accepted;
        for (uint32_t i = 0; i < n_inputs * n_inputs * n_inputs; ++i) {
          const float x[3] = {inputs[i % n_inputs], inputs[(i / n_inputs) % n_inputs],
                              inputs[i / (n_inputs * n_inputs)]};
          for (uint32_t t = 0; t < f.n_trees; ++t) {
            EXPECT_LT(emlearn_gen::forest_leaf<Word>(f, t, x), f.n_leaves)
                << "table " << table << " bit " << b;
          }
          float out[2];
          emlearn_gen::forest_mean<Word>(f, x, out);
          for (float v : out) {
            EXPECT_TRUE(v >= 0.5f && v <= 4.5f) << "table " << table << " bit " << b << ": " << v;
          }
        }
      } else {
        ++rejected;
      }
      bits[b / 8] = static_cast<uint8_t>(bits[b / 8] ^ (1u << (b % 8)));
    }
  }
  // Both outcomes must occur, or the test is not testing anything.
  EXPECT_GT(accepted, 0);
  EXPECT_GT(rejected, 0);
}

// ---------------------------------------------------------------------------
// Descriptors with compile-time layout

// Generated headers pass the kernels a type whose members are all static
// constexpr instead of a forest<Real> object. The tables behind this one are
// filled by the test from the forests above; only the layout is fixed here.
uint8_t g_nodes[32];
uint8_t g_roots[16];
uint8_t g_codes[32];
float g_thresholds[5];
float g_values[16];

template <uint8_t ValueBits, uint32_t NValues>
struct StaticForest {
  typedef float real_type;
  static constexpr const uint8_t* nodes = g_nodes;
  static constexpr const float* thresholds = g_thresholds;
  static constexpr const float* leaves = g_values;
  static constexpr const uint8_t* leaf_codes = g_codes;
  static constexpr const uint8_t* roots = g_roots;
  static constexpr uint32_t n_nodes = 5u;
  static constexpr uint32_t n_thresholds = 5u;
  static constexpr uint32_t n_leaves = 8u;
  static constexpr uint32_t n_values = NValues;
  static constexpr uint32_t n_trees = 3u;
  static constexpr uint32_t n_features = 3u;
  static constexpr uint16_t leaf_width = 2u;
  static constexpr uint8_t feature_bits = 2u;
  static constexpr uint8_t ref_bits = 4u;
  static constexpr uint8_t thr_bits = 0u;
  static constexpr uint8_t root_bits = 4u;
  static constexpr uint8_t value_bits = ValueBits;
  static constexpr const float* cat_values = nullptr;
  static constexpr const uint8_t* cat_starts = nullptr;
  static constexpr const uint8_t* cat_bits = nullptr;
  static constexpr uint32_t n_cat_values = 0u;
  static constexpr uint8_t cat_start_bits = 0u;
  static constexpr const uint8_t* tree_classes = nullptr;
  static constexpr uint8_t tree_class_bits = 0u;
  static constexpr const uint8_t* leaf_classes = nullptr;
  static constexpr uint8_t leaf_class_bits = 0u;
  static constexpr uint8_t record_bytes = 0u;
  static constexpr const uint8_t* leaf_starts = NULL;
  static constexpr const uint8_t* leaf_entries = NULL;
  static constexpr uint8_t entry_class_bits = 0u;
  static constexpr uint8_t start_bits = 0u;
  static constexpr uint8_t nonnegative_thresholds = 0u;
  static constexpr const int16_t* leaf_fixed = NULL;
  static constexpr uint32_t n_fixed = 0u;
};

template <typename Word, typename Static>
void check_static_descriptor(const Spec<float>& spec) {
  const Packed<float> m(spec);
  const forest<float> f = m.view();
  ASSERT_LE(m.nodes_bytes(), sizeof(g_nodes));
  ASSERT_LE(m.roots_bytes(), sizeof(g_roots));
  ASSERT_LE(m.codes_bytes(), sizeof(g_codes));
  ASSERT_EQ(f.n_values, Static::n_values);
  ASSERT_EQ(f.value_bits, Static::value_bits);
  memset(g_nodes, 0, sizeof(g_nodes));
  memset(g_roots, 0, sizeof(g_roots));
  memset(g_codes, 0, sizeof(g_codes));
  memcpy(g_nodes, f.nodes, m.nodes_bytes());
  memcpy(g_roots, f.roots, m.roots_bytes());
  if (m.codes_bytes()) memcpy(g_codes, f.leaf_codes, m.codes_bytes());
  memcpy(g_thresholds, f.thresholds, sizeof(g_thresholds));
  memcpy(g_values, f.leaves, f.n_values * sizeof(float));

  const Static s{};
  ASSERT_EQ((emlearn_gen::forest_validate<Word>(s, m.nodes_bytes(), m.roots_bytes(), m.codes_bytes())),
            status::ok);
  const float inputs[] = {-kInf, -1.0f, 0.0f, 0.5f, 1.5f, 2.5f, 3.5f, kInf, kNaN};
  const uint32_t n_inputs = sizeof(inputs) / sizeof(inputs[0]);
  const uint32_t n = n_inputs * n_inputs * n_inputs;
  std::vector<float> X;
  for (uint32_t i = 0; i < n; ++i) {
    X.push_back(inputs[i % n_inputs]);
    X.push_back(inputs[(i / n_inputs) % n_inputs]);
    X.push_back(inputs[i / (n_inputs * n_inputs)]);
  }
  std::vector<float> batch_static(n * 2), batch_runtime(n * 2);
  emlearn_gen::forest_mean_batch<Word>(s, X.data(), n, batch_static.data());
  emlearn_gen::forest_mean_batch<Word>(f, X.data(), n, batch_runtime.data());
  std::vector<uint32_t> seen(f.n_leaves, 0);
  for (uint32_t i = 0; i < n; ++i) {
    const float* x = X.data() + 3 * i;
    for (uint32_t t = 0; t < 3; ++t) {
      const uint32_t leaf = emlearn_gen::forest_leaf<Word>(s, t, x);
      ASSERT_EQ(leaf, emlearn_gen::forest_leaf<Word>(f, t, x)) << "sample " << i << " tree " << t;
      ++seen[leaf];
    }
    float a[2], b[2];
    emlearn_gen::forest_mean<Word>(s, x, a);
    emlearn_gen::forest_mean<Word>(f, x, b);
    for (int j = 0; j < 2; ++j) {
      ASSERT_TRUE(same_bits(a[j], b[j])) << "sample " << i;
      ASSERT_TRUE(same_bits(batch_static[2 * i + j], b[j])) << "sample " << i;
      ASSERT_TRUE(same_bits(batch_runtime[2 * i + j], b[j])) << "sample " << i;
    }
  }
  // Every leaf the trees can reach was reached (rows 0..5 and the root leaf 7).
  for (uint32_t leaf : {0u, 1u, 2u, 3u, 4u, 5u, 7u}) {
    EXPECT_GT(seen[leaf], 0u) << "leaf " << leaf;
  }
}

template <typename Word>
class StaticDescriptor : public ::testing::Test {};
TYPED_TEST_SUITE(StaticDescriptor, Words);

TYPED_TEST(StaticDescriptor, MatchesRuntimeDescriptor) {
  using Word = TypeParam;
  Spec<float> plain = valid_spec<uint64_t>();
  for (size_t k = 0; k < plain.leaves.size(); ++k) {
    plain.leaves[k] = static_cast<float>(k) * 0.25f + 0.5f;
  }
  check_static_descriptor<Word, StaticForest<0, 16> >(plain);
  if (::testing::Test::HasFatalFailure()) return;
  check_static_descriptor<Word, StaticForest<3, 5> >(coded_valid_spec<uint64_t>());
}

// ---------------------------------------------------------------------------
// Categorical splits and sparse rows, on hand-made tables.

// One tree, one split on categorical feature 1 (feature 0 is numeric) whose
// categories are {-1, 2, 5.5}; code 1 (value 2) goes left, to leaf 0 (10);
// the others go right, to leaf 1 (20). Built in uint64_t-sized buffers so
// any word read stays inside them.
struct CategoricalTree {
  uint8_t nodes[8] = {0};
  float thresholds[1] = {0.0f};  // the bitset's bit position in cat_bits
  float leaves[2] = {10.0f, 20.0f};
  uint8_t roots[8] = {0};
  float cat_values[3] = {-1.0f, 2.0f, 5.5f};
  uint8_t cat_starts[8] = {0};
  uint8_t cat_bits[8] = {0};

  explicit CategoricalTree(bool missing_left) {
    // record: feature (1 bit) = 1, flags: both children leaves (+ missing).
    const uint32_t flags = kLeftLeaf | kRightLeaf | (missing_left ? kMissingLeft : 0u);
    nodes[0] = static_cast<uint8_t>(1u | (flags << 1));
    // starts {0, 0, 3} in 2-bit fields: feature 0 has no categories.
    cat_starts[0] = static_cast<uint8_t>(0u | (0u << 2) | (3u << 4));
    cat_bits[0] = 2u;  // code 1 goes left
  }

  forest<float> view() const {
    forest<float> f = forest<float>();
    f.nodes = nodes;
    f.thresholds = thresholds;
    f.leaves = leaves;
    f.roots = roots;
    f.n_nodes = 1u;
    f.n_thresholds = 1u;
    f.n_leaves = 2u;
    f.n_values = 2u;
    f.n_trees = 1u;
    f.n_features = 2u;
    f.leaf_width = 1u;
    f.feature_bits = 1u;
    f.cat_values = cat_values;
    f.cat_starts = cat_starts;
    f.cat_bits = cat_bits;
    f.n_cat_values = 3u;
    f.cat_start_bits = 2u;
    return f;
  }
};

template <typename Word>
class Categorical : public ::testing::Test {};
TYPED_TEST_SUITE(Categorical, Words);

TYPED_TEST(Categorical, KnownUnknownAndMissingCategories) {
  using Word = TypeParam;
  for (bool missing_left : {false, true}) {
    const CategoricalTree tree(missing_left);
    const forest<float> f = tree.view();
    ASSERT_EQ((emlearn_gen::forest_validate<Word>(f, 8, 8, 0, 8, 8, 0)), status::ok);
    const uint32_t missing = missing_left ? 0u : 1u;
    const float cases[][2] = {{2.0f, 0.0f}, {-1.0f, 1.0f}, {5.5f, 1.0f}};
    for (const auto& c : cases) {
      const float x[2] = {123.0f, c[0]};
      EXPECT_EQ((emlearn_gen::forest_leaf<Word>(f, 0, x)), static_cast<uint32_t>(c[1])) << c[0];
    }
    // Unseen values (between, beside and far from the categories) and NaN
    // go where missing values go.
    for (float value : {0.0f, -0.0f, 2.5f, 3.0f, 6.0f, -2.0f, 1e30f, -kInf, kInf, kNaN}) {
      const float x[2] = {0.0f, value};
      EXPECT_EQ((emlearn_gen::forest_leaf<Word>(f, 0, x)), missing) << value;
    }
  }
}

TYPED_TEST(Categorical, ValidateRefusesBadCategoryTables) {
  using Word = TypeParam;
  {
    CategoricalTree tree(false);
    tree.cat_values[2] = 2.0f;  // not strictly increasing
    EXPECT_EQ((emlearn_gen::forest_validate<Word>(tree.view(), 8, 8, 0, 8, 8, 0)), status::bad_table);
  }
  {
    CategoricalTree tree(false);
    tree.cat_starts[0] = static_cast<uint8_t>(0u | (0u << 2) | (2u << 4));  // 2 of 3 values
    EXPECT_EQ((emlearn_gen::forest_validate<Word>(tree.view(), 8, 8, 0, 8, 8, 0)), status::bad_table);
  }
  {
    CategoricalTree tree(false);
    tree.thresholds[0] = 0.5f;  // not a bit position
    EXPECT_EQ((emlearn_gen::forest_validate<Word>(tree.view(), 8, 8, 0, 8, 8, 0)), status::bad_table);
  }
  {
    CategoricalTree tree(false);
    tree.thresholds[0] = 1000.0f;  // past the end of cat_bits
    EXPECT_EQ((emlearn_gen::forest_validate<Word>(tree.view(), 8, 8, 0, 8, 8, 0)), status::bad_table);
  }
  // Without the categorical tables' sizes (the four-argument form).
  const CategoricalTree tree(false);
  EXPECT_NE((emlearn_gen::forest_validate<Word>(tree.view(), 8, 8, 0)), status::ok);
}

// Sparse rows: three single-leaf trees adding 1, 2 and 4 to sums 2, 0, 2
// of three.
TYPED_TEST(Categorical, SparseRowsAddToTheirTreesSum) {
  using Word = TypeParam;
  const uint8_t roots[8] = {static_cast<uint8_t>(0u | (1u << 2) | (2u << 4))};  // leaves 0, 1, 2
  const uint8_t classes[8] = {static_cast<uint8_t>(2u | (0u << 2) | (2u << 4))};
  const double leaves[3] = {1.0, 2.0, 4.0};
  forest<double> f = forest<double>();
  f.leaves = leaves;
  f.roots = roots;
  f.n_leaves = 3u;
  f.n_values = 3u;
  f.n_trees = 3u;
  f.n_features = 1u;
  f.leaf_width = 3u;
  f.root_bits = 2u;
  f.tree_classes = classes;
  f.tree_class_bits = 2u;
  ASSERT_EQ((emlearn_gen::forest_validate<Word>(f, 8, 8, 0, 0, 0, 8)), status::ok);
  const float x[1] = {0.0f};
  double sums[3];
  emlearn_gen::forest_sum<Word>(f, x, sums);
  EXPECT_EQ(sums[0], 2.0);
  EXPECT_EQ(sums[1], 0.0);
  EXPECT_EQ(sums[2], 5.0);
  const uint8_t bad[8] = {static_cast<uint8_t>(3u)};  // class 3 of 3
  f.tree_classes = bad;
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, 8, 8, 0, 0, 0, 8)), status::bad_table);
}

// argmax_of_mean must give argmax of the divided sums, the first of tied
// means included, without dividing: sums a few units in the last place
// apart (whose means may round to one value), equal sums, zeros, negative
// and tiny sums, for every number of trees.
template <typename Real, typename Bits>
Real from_bits_of(Bits bits) {
  Real x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

template <typename Real, typename Bits>
void check_argmax_of_mean(uint64_t seed) {
  Lcg rng(seed);
  const uint16_t width = 6;
  for (int round = 0; round < 4000; ++round) {
    forest<Real> f = forest<Real>();
    f.leaf_width = width;
    const uint32_t pick = rng.below(4);
    f.n_trees = pick == 0 ? 1u + rng.below(12) : pick == 1 ? 1u + rng.below(1000) : pick == 2 ? 3u : rng.next() | 1u;
    const Real base = static_cast<Real>(1u + rng.below(1000)) / static_cast<Real>(1u + rng.below(97));
    Bits base_bits;
    memcpy(&base_bits, &base, sizeof base_bits);
    Real sums[width];
    for (uint16_t j = 0; j < width; ++j) {
      switch (rng.below(8)) {
        case 0: sums[j] = Real(0); break;
        case 1: sums[j] = -base; break;
        case 2: sums[j] = from_bits_of<Real>(static_cast<Bits>(rng.below(64))); break;  // subnormal
        case 3: sums[j] = static_cast<Real>(rng.below(5)); break;
        default: sums[j] = from_bits_of<Real>(static_cast<Bits>(base_bits - rng.below(24))); break;
      }
    }
    if (rng.below(3) == 0) {  // only tiny, zero or negative sums
      for (uint16_t j = 0; j < width; ++j) {
        sums[j] = rng.below(2) ? -sums[j] : from_bits_of<Real>(static_cast<Bits>(rng.below(64)));
      }
    }
    Real means[width];
    Real scratch[width];
    for (uint16_t j = 0; j < width; ++j) {
      means[j] = emlearn_gen::divide(sums[j], f.n_trees);
      scratch[j] = sums[j];
    }
    ASSERT_EQ(emlearn_gen::argmax_of_mean(f, scratch), emlearn_gen::argmax(means, width))
        << "seed " << seed << " round " << round << " trees " << f.n_trees;
  }
}

TEST(ArgmaxOfMean, EqualsArgmaxOfTheMeans) {
  for (uint64_t seed = 300; seed < 304; ++seed) {
    check_argmax_of_mean<float, uint32_t>(seed);
    check_argmax_of_mean<double, uint64_t>(seed);
  }
}

// Without a double unit, predict() finds the largest sum on integer order
// keys of the bits: the index argmax finds by comparing the values, for
// signed zeros (equal), negatives, subnormals, infinities and ties.
template <typename Real, typename Bits>
void check_first_largest_by_key(uint64_t seed) {
  Lcg rng(seed);
  const Bits top_bit = static_cast<Bits>(static_cast<Bits>(1) << (8 * sizeof(Bits) - 1));
  const Real specials[] = {Real(0), -Real(0), Real(1), -Real(1), std::numeric_limits<Real>::infinity(),
                           -std::numeric_limits<Real>::infinity(), std::numeric_limits<Real>::max(),
                           std::numeric_limits<Real>::denorm_min(), -std::numeric_limits<Real>::denorm_min()};
  for (int round = 0; round < 20000; ++round) {
    const int32_t n = 1 + static_cast<int32_t>(rng.below(8));
    Real sums[8];
    for (int32_t j = 0; j < n; ++j) {
      const uint32_t pick = rng.below(4);
      if (pick == 0) {
        sums[j] = specials[rng.below(sizeof specials / sizeof specials[0])];
      } else if (pick == 1 && j > 0) {
        sums[j] = sums[rng.below(static_cast<uint32_t>(j))];  // a tie
      } else {
        Bits bits = static_cast<Bits>((static_cast<uint64_t>(rng.next()) << 32) | rng.next());
        if (pick == 2) {
          bits = static_cast<Bits>(bits & (top_bit | 0xFFu));  // zero or subnormal, either sign
        }
        sums[j] = from_bits_of<Real>(bits);
        if (std::isnan(sums[j])) {
          sums[j] = Real(2);
        }
      }
    }
    ASSERT_EQ(emlearn_gen::detail::first_largest_by_key(sums, n), emlearn_gen::argmax(sums, n))
        << "seed " << seed << " round " << round;
  }
}

TEST(ArgmaxOfMean, FirstLargestByKeyEqualsArgmax) {
  for (uint64_t seed = 310; seed < 312; ++seed) {
    check_first_largest_by_key<float, uint32_t>(seed);
    check_first_largest_by_key<double, uint64_t>(seed);
  }
}

// soft_double sums (AVR) decide as the hardware double's do.
TEST(ArgmaxOfMean, SoftDoubleEqualsHardwareDouble) {
  using emlearn_gen::soft_double;
  Lcg rng(320);
  const uint16_t width = 5;
  for (int round = 0; round < 20000; ++round) {
    forest<double> hard = forest<double>();
    forest<soft_double> soft = forest<soft_double>();
    hard.leaf_width = soft.leaf_width = width;
    hard.n_trees = soft.n_trees = 1u + rng.below(round % 2 ? 12u : 100000u);
    const double base = static_cast<double>(1u + rng.below(1000)) / static_cast<double>(1u + rng.below(97));
    uint64_t base_bits;
    memcpy(&base_bits, &base, sizeof base_bits);
    double h[width];
    soft_double s[width];
    for (uint16_t j = 0; j < width; ++j) {
      const uint32_t pick = rng.below(4);
      const uint64_t bits = pick == 0 ? 0u : pick == 1 ? rng.below(64) : base_bits - rng.below(24);
      h[j] = from_bits_of<double>(bits);
      s[j].bits = bits;
    }
    ASSERT_EQ(emlearn_gen::argmax_of_mean(soft, s), emlearn_gen::argmax_of_mean(hard, h)) << "round " << round;
  }
}

// Entry rows: each leaf row as its nonzero values (value index, class,
// last flag) from leaf_starts. A forest of single-leaf trees (tree t is
// leaf row t), so the rows' sums are known whatever the input.
struct EntryForest {
  std::vector<double> values;
  std::vector<int16_t> fixed;  // approximate summands, where every value lies in [0, 1]
  std::vector<uint8_t> starts;
  std::vector<uint8_t> entries;
  std::vector<uint8_t> roots;
  forest<double> f;

  // rows[t][k]: tree t's value for class k. With `whole_bytes`, entries and
  // starts of 8 or 16 bits (the value index field widened).
  EntryForest(const std::vector<std::vector<double>>& rows, uint16_t width, bool whole_bytes = false) {
    std::vector<uint64_t> entry_fields, start_fields, root_fields;
    std::map<double, uint64_t> code;
    for (const std::vector<double>& row : rows) {
      for (double v : row) code.insert(std::make_pair(v, 0u));
    }
    for (std::map<double, uint64_t>::iterator it = code.begin(); it != code.end(); ++it) {
      it->second = values.size();
      values.push_back(it->first);
    }
    uint8_t value_bits = static_cast<uint8_t>(std::max(1, bit_width(values.size() - 1u)));
    const uint8_t class_bits = static_cast<uint8_t>(std::max(1, bit_width(width - 1u)));
    if (whole_bytes) {
      value_bits = static_cast<uint8_t>((value_bits + class_bits + 1u <= 8u ? 8u : 16u) - class_bits - 1u);
    }
    for (size_t t = 0; t < rows.size(); ++t) {
      start_fields.push_back(entry_fields.size());
      root_fields.push_back(t);
      std::vector<uint16_t> kept;
      for (uint16_t k = 0; k < width; ++k) {
        if (rows[t][k] != 0.0) kept.push_back(k);
      }
      if (kept.empty()) kept.push_back(0);
      for (size_t i = 0; i < kept.size(); ++i) {
        const uint64_t last = i + 1 == kept.size() ? 1u : 0u;
        entry_fields.push_back(code[rows[t][kept[i]]] | (static_cast<uint64_t>(kept[i]) << value_bits) |
                               (last << (value_bits + class_bits)));
      }
    }
    uint8_t start_bits = static_cast<uint8_t>(bit_width(start_fields.back()));
    if (whole_bytes) {
      start_bits = start_bits <= 8u ? 8u : 16u;
    }
    const uint8_t root_bits = static_cast<uint8_t>(std::max(1, bit_width(rows.size() - 1u)));
    entries = pack_fields(entry_fields, value_bits + class_bits + 1u, 4);
    starts = pack_fields(start_fields, start_bits, 4);
    roots = pack_fields(root_fields, root_bits, 4);
    f = forest<double>();
    f.leaves = values.data();
    f.roots = roots.data();
    f.leaf_starts = starts.data();
    f.leaf_entries = entries.data();
    f.n_leaves = static_cast<uint32_t>(rows.size());
    f.n_values = static_cast<uint32_t>(values.size());
    f.n_trees = static_cast<uint32_t>(rows.size());
    f.n_features = 1u;
    f.leaf_width = width;
    f.root_bits = root_bits;
    f.value_bits = value_bits;
    f.entry_class_bits = class_bits;
    f.start_bits = start_bits;
    // leaf_fixed as the generator writes it (pack.approximate_summands):
    // floor(v 2^14), where every value lies in [0, 1].
    bool in_range = f.n_trees > 1u;
    for (double v : values) in_range = in_range && !std::signbit(v) && v <= 1.0;
    for (size_t i = 0; in_range && i < values.size(); ++i) {
      fixed.push_back(static_cast<int16_t>(std::floor(std::ldexp(values[i], 14))));
    }
    f.leaf_fixed = fixed.empty() ? NULL : fixed.data();
    f.n_fixed = static_cast<uint32_t>(fixed.size());
  }
  status validate() const {
    return emlearn_gen::forest_validate<uint32_t>(f, 0, roots.size(), 0, 0, 0, 0, 0, starts.size(), entries.size());
  }
  static int bit_width(uint64_t v) {
    int n = 0;
    while (v >> n) ++n;
    return n;
  }
};

// Rows of class fractions count / total, mostly zeros.
std::vector<double> fraction_row(Lcg& rng, uint16_t width) {
  std::vector<double> row(width, 0.0);
  std::vector<uint32_t> counts(width, 0u);
  uint32_t total = 0;
  const uint32_t used = 1u + rng.below(3);
  for (uint32_t i = 0; i < used; ++i) {
    const uint32_t c = 1u + rng.below(200);
    counts[rng.below(width)] += c;
    total += c;
  }
  for (uint16_t k = 0; k < width; ++k) row[k] = static_cast<double>(counts[k]) / static_cast<double>(total);
  return row;
}

TEST(EntryRows, AddTheirValuesAndValidate) {
  Lcg rng(400);
  for (int round = 0; round < 200; ++round) {
    const uint16_t width = static_cast<uint16_t>(2u + rng.below(6));
    std::vector<std::vector<double>> rows;
    for (uint32_t t = 0; t < 1u + rng.below(20); ++t) rows.push_back(fraction_row(rng, width));
    rows[0].assign(width, 0.0);  // a row of zeros only: one entry of a zero
    EntryForest m(rows, width, round % 2 == 0);
    ASSERT_EQ(m.validate(), status::ok);
    for (uint32_t leaf = 0; leaf < m.f.n_leaves; ++leaf) {
      std::vector<double> got(width, 0.0);
      emlearn_gen::forest_add_leaf<uint32_t>(m.f, leaf, got.data());
      for (uint16_t k = 0; k < width; ++k) ASSERT_EQ(got[k], rows[leaf][k]) << "leaf " << leaf << " class " << k;
    }
  }
}

TEST(EntryRows, ValidateRefusesBadEntries) {
  Lcg rng(401);
  std::vector<std::vector<double>> rows;
  for (int t = 0; t < 6; ++t) rows.push_back(fraction_row(rng, 3));
  EntryForest m(rows, 3);
  ASSERT_EQ(m.validate(), status::ok);
  EXPECT_EQ((emlearn_gen::forest_validate<uint32_t>(m.f, 0, m.roots.size(), 0, 0, 0, 0, 0, m.starts.size(),
                                                     m.entries.size() - 1u)),
            status::size_mismatch);
  forest<double>& f = m.f;
  f.leaf_width = 1;  // every class but 0 is beyond the row
  EXPECT_EQ(m.validate(), status::bad_table);
  f.leaf_width = 3;
  f.n_values = 1;  // value indices beyond the table
  EXPECT_EQ(m.validate(), status::bad_table);
  f.n_values = static_cast<uint32_t>(m.values.size());
  std::vector<uint8_t> starts = m.starts;
  starts[0] ^= 1u;  // the first row no longer starts at entry 0
  f.leaf_starts = starts.data();
  EXPECT_EQ(m.validate(), status::bad_table);
  f.leaf_starts = m.starts.data();
  std::vector<uint8_t> no_last(m.entries.size(), 0u);  // no row ends
  f.leaf_entries = no_last.data();
  EXPECT_EQ(m.validate(), status::size_mismatch);
  f.leaf_entries = m.entries.data();
  f.leaf_codes = NULL;
  EXPECT_EQ(m.validate(), status::ok);
  // The approximate summands must be those of the values, one per value.
  ASSERT_EQ(f.n_fixed, f.n_values);
  std::vector<int16_t> fixed = m.fixed;
  fixed.back() = static_cast<int16_t>(fixed.back() ^ 1);
  f.leaf_fixed = fixed.data();
  EXPECT_EQ(m.validate(), status::bad_table);
  f.leaf_fixed = m.fixed.data();
  f.n_fixed = f.n_values - 1u;
  EXPECT_EQ(m.validate(), status::bad_table);
  f.n_fixed = f.n_values;
  EXPECT_EQ(m.validate(), status::ok);
}

// The summand of a value in [0, 1] is floor(v 2^14), read from its bits.
TEST(EntryRows, ApproximateSummandIsTheFloorOfV16384) {
  std::vector<double> values = {0.0, 1.0, 0.5, 1.0 / 16384.0, 1.0 / 32768.0, 16383.0 / 16384.0,
                                std::nextafter(1.0, 0.0), std::nextafter(1.0 / 16384.0, 0.0),
                                std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::min()};
  Lcg rng(11);
  for (int i = 0; i < 20000; ++i) values.push_back((rng.below(1u << 30) + 0.5) / static_cast<double>(1u << 30));
  for (double v : values) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    EXPECT_EQ(emlearn_gen::detail::approximate_summand(bits), static_cast<uint32_t>(std::floor(std::ldexp(v, 14))))
        << v;
  }
}

// Where double is software, predict() decides on integer approximations of
// the sums when one leads clearly: that label must be argmax_of_mean's of
// the float64 sums, on near ties too (which must fall back), and a value
// outside [0, 1] must fall back.
TEST(EntryRows, ApproximateLabelIsTheExactOneWhereItDecides) {
  Lcg rng(402);
  uint32_t decided = 0, fell_back = 0;
  const float x[1] = {0.0f};
  for (int round = 0; round < 20000; ++round) {
    const uint16_t width = static_cast<uint16_t>(2u + rng.below(9));
    const uint32_t n_trees = 2u + rng.below(round % 10 == 0 ? 300u : 30u);
    std::vector<std::vector<double>> rows;
    for (uint32_t t = 0; t < n_trees; ++t) rows.push_back(fraction_row(rng, width));
    if (rng.below(3) == 0) {
      // Make classes 0 and 1 tie, or nearly: each tree's row given again
      // with the two swapped (a total of one more, for a near tie).
      const uint32_t half = n_trees / 2u;
      for (uint32_t t = 0; t < half; ++t) {
        rows[half + t] = rows[t];
        std::swap(rows[half + t][0], rows[half + t][1]);
        if (rng.below(4) == 0) rows[half + t][1] = std::nextafter(rows[half + t][1], 1.0);
      }
    }
    if (rng.below(50) == 0) rows[rng.below(n_trees)][rng.below(width)] = rng.below(2) ? 1.5 : -0.25;
    EntryForest m(rows, width, round % 2 == 0);
    ASSERT_EQ(m.validate(), status::ok);
    std::vector<double> sums(width);
    emlearn_gen::forest_sum<uint32_t>(m.f, x, sums.data());
    const int32_t want = emlearn_gen::argmax_of_mean(m.f, sums.data());
    std::vector<uint32_t> approx(width);
    int32_t got = -1;
    if (emlearn_gen::detail::approximation<true>::label<uint32_t>(m.f, x, approx.data(), &got)) {
      ++decided;
      ASSERT_EQ(got, want) << "round " << round;
    } else {
      ++fell_back;
    }
    std::vector<double> scratch(width);
    ASSERT_EQ(emlearn_gen::forest_label<uint32_t>(m.f, x, scratch.data(), approx.data()), want);
  }
  EXPECT_GT(decided, 10000u);
  EXPECT_GT(fell_back, 1000u);
}

// Class votes: one class per leaf row; forest_sum adds one per vote (the
// host's path), forest_votes counts them, and both decide and give the
// probabilities as the one-hot rows of values did.
template <typename Word>
void check_votes() {
  // One tree per class vote: a stump on x[0] <= 0.5, leaves voting 2 and 0,
  // and a single-leaf tree voting 1 (root n_nodes + leaf 2).
  const uint8_t nodes[8] = {static_cast<uint8_t>(kLeftLeaf | kRightLeaf)};  // feature 0, ref 0
  const float thresholds[1] = {0.5f};
  const uint8_t roots[8] = {static_cast<uint8_t>(0u | (3u << 2))};  // 2-bit fields: node 0, leaf 2
  const uint8_t classes[8] = {static_cast<uint8_t>(2u | (0u << 2) | (1u << 4))};
  forest<double> f = forest<double>();
  f.nodes = nodes;
  f.thresholds = thresholds;
  f.roots = roots;
  f.leaf_classes = classes;
  f.leaf_class_bits = 2u;
  f.n_nodes = 1u;
  f.n_thresholds = 1u;
  f.n_leaves = 3u;
  f.n_trees = 2u;
  f.n_features = 1u;
  f.leaf_width = 3u;
  f.root_bits = 2u;
  ASSERT_EQ((emlearn_gen::forest_validate<Word>(f, 8, 8, 0, 0, 0, 0, 8)), status::ok);
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, 8, 8, 0, 0, 0, 0)), status::size_mismatch);
  const float inputs[3] = {0.0f, 1.0f, kNaN};
  const uint32_t want_left[3] = {1u, 0u, 0u};  // NaN goes right: no missing flag
  for (int i = 0; i < 3; ++i) {
    uint32_t votes[3];
    double sums[3];
    float shares[3];
    emlearn_gen::forest_votes<Word>(f, inputs + i, votes);
    emlearn_gen::forest_mean<Word>(f, inputs + i, sums);
    emlearn_gen::forest_vote_shares(f, votes, shares);
    EXPECT_EQ(votes[1], 1u);
    EXPECT_EQ(votes[0], 1u - want_left[i]);
    EXPECT_EQ(votes[2], want_left[i]);
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ(sums[j], static_cast<double>(votes[j]) / 2.0);
      EXPECT_EQ(shares[j], static_cast<float>(sums[j]));
    }
    EXPECT_EQ(emlearn_gen::argmax(votes, 3), emlearn_gen::argmax(sums, 3));
  }
  const uint8_t bad[8] = {static_cast<uint8_t>(3u)};  // class 3 of 3
  f.leaf_classes = bad;
  EXPECT_EQ((emlearn_gen::forest_validate<Word>(f, 8, 8, 0, 0, 0, 0, 8)), status::bad_table);
}

TEST(TreeEnsemble, ClassVotesCountOneHotRows) {
  check_votes<uint32_t>();
  check_votes<uint64_t>();
}

// The integer keys that FPU-less targets compare thresholds on order as the
// floats do: zeros of both signs, subnormals, infinities, random bits.
TEST(TreeEnsemble, OrderKeysCompareAsFloats) {
  std::vector<float> values = {0.0f, -0.0f, kInf, -kInf, 1.0f, -1.0f, 0.5f, 3.5f, -3.5f,
                               std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
                               std::numeric_limits<float>::min(), std::numeric_limits<float>::max(),
                               -std::numeric_limits<float>::max()};
  Lcg rng(77);
  for (int i = 0; i < 400; ++i) {
    uint32_t bits = rng.next() ^ (rng.next() << 16);
    if ((bits & 0x7F800000u) == 0x7F800000u) bits &= 0xFF7FFFFFu;  // no NaN
    float v;
    memcpy(&v, &bits, sizeof v);
    values.push_back(v);
    values.push_back(std::nextafter(v, kInf));
  }
  for (float x : values) {
    for (float t : values) {
      ASSERT_EQ(emlearn_gen::detail::order_key(x) <= emlearn_gen::detail::order_key(t), x <= t) << x << " " << t;
    }
  }
}

}  // namespace
