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
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#endif

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
    uint32_t feature;
    int32_t child[2];  // [left, right]: a node's byte offset in `nodes`, or ~leaf for a leaf row
  };
  // The byte offset of node i, as `child` holds it: a step adds it to the
  // nodes' address with no scaling.
  static int32_t offset(size_t i) { return static_cast<int32_t>(i * sizeof(node)); }
  static size_t index(int32_t offset) { return static_cast<size_t>(offset) / sizeof(node); }
  std::vector<node> nodes;
  // Per node, 1 where a missing value (NaN) goes left: apart from the nodes,
  // so that rows without NaN, which never read it, take their features
  // without a mask.
  std::vector<uint8_t> missing_left;
  std::vector<int32_t> roots;  // per tree: a node index, or ~leaf
  std::vector<Real> rows;      // row_width values per leaf row, codes resolved
  // Per tree, the first of a row's `width` sums its leaf row adds to
  // (tree_sum(): a class for sparse rows, as in multi-class boosting);
  // empty where every leaf row covers all of them.
  std::vector<uint32_t> offsets;
  // Where every leaf row of several values holds at most one that is not
  // zero (forests whose leaves are pure, as full-depth classifiers' are):
  // per leaf row, the one of a row's `width` sums that value adds to, and
  // `rows` holds that value alone (row_width 1). Adding a zero does not
  // change a sum that starts at +0 (round to nearest never makes -0 of it),
  // so leaving the zeros out gives the same bits. Else empty.
  std::vector<uint32_t> leaf_sum;
  uint32_t n_features = 0;
  uint32_t width = 0;      // sums per input row: leaf_width
  uint32_t row_width = 0;  // values per leaf row: leaf_width, or 1 for sparse rows and leaf_sum
  uint32_t n_trees = 0;

  // Shallow trees once more in level order, as complete binary trees: node
  // k's children are 2k + 1 and 2k + 2, so a walk is `depth` steps of
  // arithmetic, without a branch or a lane to refill. A leaf above the last
  // level is padded with splits whose two sides both lead to it.
  struct level_node {
    float threshold;
    uint32_t feature;
  };
  struct level_tree {
    uint32_t depth;       // 0: not in level order (walked by lanes)
    uint32_t first_node;  // its 2^depth - 1 nodes in level_nodes
    uint32_t first_leaf;  // its 2^depth leaf rows, left to right, in level_leaves
  };
  std::vector<level_node> level_nodes;
  std::vector<uint8_t> level_missing_left;  // as missing_left, per level node
  std::vector<uint32_t> level_leaves;
  std::vector<level_tree> level;  // per tree
  bool all_level = false;         // every tree in level order (or a leaf)

  // Node i's decision on x: the child it goes to. With `may_be_missing`
  // false the caller knows that x holds no NaN.
  template <bool may_be_missing = true>
  static int32_t step(const node* nodes, const uint8_t* missing_left, int32_t at, const float* x) {
    const node& d = *reinterpret_cast<const node*>(reinterpret_cast<const char*>(nodes) + at);
    return d.child[goes_right<may_be_missing>(d.threshold, d.feature, x, missing_left + index(at))];
  }

  // 1 where x goes right at a node of this threshold and feature, whose
  // missing-value flag is *flag, else 0 (the flag is read only for NaN).
  template <bool may_be_missing>
  static uint32_t goes_right(float threshold, uint32_t feature, const float* x, const uint8_t* flag) {
    const float value = x[feature];
    if (!may_be_missing) return value <= threshold ? 0u : 1u;
    // As forest_leaf: NaN follows the node's flag and only a present value
    // decides by comparison. Bit operations rather than a branch, so that
    // the rows of a batch run without jumps.
    const bool missing = emlearn_gen::is_missing(value);
    const bool left = (!missing & (value <= threshold)) | (missing & (*flag != 0u));
    return left ? 0u : 1u;
  }
};

// Makes the leaf rows of `e` one value and its sum (leaf_sum) where no row
// has more than one value that is not zero.
template <typename Real>
void keep_single_values(expanded_forest<Real>& e) {
  const size_t width = e.row_width;
  if (width < 2u) return;
  const size_t n_rows = e.rows.size() / width;
  std::vector<uint32_t> to(n_rows, 0u);
  std::vector<Real> values(n_rows, emlearn_gen::zero<Real>());
  for (size_t leaf = 0; leaf < n_rows; ++leaf) {
    const Real* row = e.rows.data() + leaf * width;
    unsigned found = 0;
    for (size_t j = 0; j < width; ++j) {
      if (!(row[j] == emlearn_gen::zero<Real>())) {  // NaN too
        if (++found > 1u) return;
        to[leaf] = static_cast<uint32_t>(j);
        values[leaf] = row[j];
      }
    }
  }
  e.leaf_sum.swap(to);
  e.rows.swap(values);
  e.row_width = 1u;
}

// Decodes the records of `f` (already validated by forest_validate).
template <typename Word, typename Real>
expanded_forest<Real> expand(const emlearn_gen::forest<Real>& f) {
  namespace d = emlearn_gen::detail;
  typedef expanded_forest<Real> forest_type;
  forest_type e;
  e.n_features = f.n_features;
  e.width = f.leaf_width;
  e.n_trees = f.n_trees;
  const uint8_t ref_shift = static_cast<uint8_t>(f.feature_bits + d::flag_bits);
  const Word feature_mask = static_cast<Word>((static_cast<Word>(1) << f.feature_bits) - 1u);
  const Word ref_mask = static_cast<Word>((static_cast<Word>(1) << f.ref_bits) - 1u);
  e.nodes.resize(f.n_nodes);
  e.missing_left.resize(f.n_nodes);
  for (uint32_t i = 0; i < f.n_nodes; ++i) {
    const Word record = d::node_record<Word>(f, i);
    const uint32_t feature = static_cast<uint32_t>(record & feature_mask);
    const uint32_t flags = static_cast<uint32_t>(record >> f.feature_bits) & 7u;
    const uint32_t ref = static_cast<uint32_t>((record >> ref_shift) & ref_mask);
    const uint32_t thr = f.thr_bits ? static_cast<uint32_t>(record >> (ref_shift + f.ref_bits)) : i;
    const bool left_leaf = (flags & d::flag_left_leaf) != 0;
    const bool right_leaf = (flags & d::flag_right_leaf) != 0;
    typename expanded_forest<Real>::node& n = e.nodes[i];
    n.threshold = f.thresholds[thr];
    n.feature = feature;
    e.missing_left[i] = (flags & d::flag_missing_left) ? 1u : 0u;
    // The four cases of the record's `ref` (tree_ensemble.hpp).
    n.child[0] = left_leaf ? ~static_cast<int32_t>(ref) : forest_type::offset(i + 1u);
    if (right_leaf) {
      n.child[1] = ~static_cast<int32_t>(ref + (left_leaf ? 1u : 0u));
    } else {
      n.child[1] = forest_type::offset(left_leaf ? i + 1u : i + ref);
    }
  }
  e.roots.resize(f.n_trees);
  for (uint32_t t = 0; t < f.n_trees; ++t) {
    const uint32_t root = static_cast<uint32_t>(
        emlearn_gen::read_bits<Word>(f.roots, t * static_cast<uint32_t>(f.root_bits), f.root_bits));
    e.roots[t] = root >= f.n_nodes ? ~static_cast<int32_t>(root - f.n_nodes) : static_cast<int32_t>(root);
  }
  // Each leaf row as forest_add_leaf() reads it, codes resolved.
  const uint16_t row_width = d::row_width(f);
  e.row_width = row_width;
  if (f.tree_class_bits != 0u) {
    e.offsets.resize(f.n_trees);
    for (uint32_t t = 0; t < f.n_trees; ++t) e.offsets[t] = d::tree_sum<Word>(f, t);
  }
  e.rows.assign(static_cast<size_t>(f.n_leaves) * row_width, emlearn_gen::zero<Real>());
  for (uint32_t leaf = 0; leaf < f.n_leaves; ++leaf) {
    emlearn_gen::forest_add_leaf<Word>(f, leaf, e.rows.data() + static_cast<size_t>(leaf) * row_width);
  }
  keep_single_values(e);
  return e;
}

// Trees deeper than this are walked by lanes only: a complete tree of
// depth 12 takes 48 KiB.
const uint32_t max_level_depth = 12;

// Adds the level order of every tree of `e` that is shallow and nearly
// complete enough (boosting's depth-limited stages, isolation trees, forests
// of limited depth): padding may at most quadruple its split nodes, since a
// padded step costs less than a lane's step but is still work.
template <typename Real>
void add_level_order(expanded_forest<Real>& e) {
  typedef expanded_forest<Real> forest_type;
  // Depth below each node, from the last node back: children lie after
  // their parent (forest_validate), so theirs are known.
  std::vector<uint32_t> below(e.nodes.size());
  for (size_t i = e.nodes.size(); i-- > 0;) {
    uint32_t d = 0;
    for (int32_t child : e.nodes[i].child) {
      if (child >= 0) d = std::max(d, below[forest_type::index(child)]);
    }
    below[i] = d + 1;
  }
  e.level.assign(e.n_trees, typename forest_type::level_tree{0, 0, 0});
  e.all_level = true;
  std::vector<int32_t> at;  // per position of the complete tree: a node, or ~leaf
  for (uint32_t t = 0; t < e.n_trees; ++t) {
    const int32_t root = e.roots[t];
    if (root < 0) continue;  // one leaf: no walk
    if (below[static_cast<size_t>(root)] > max_level_depth) {
      e.all_level = false;
      continue;
    }
    const uint32_t depth = below[static_cast<size_t>(root)];
    const uint32_t inner = (1u << depth) - 1u;
    at.assign(2u * inner + 1u, 0);
    at[0] = forest_type::offset(static_cast<size_t>(root));
    uint32_t splits = 0;
    const size_t first_node = e.level_nodes.size();
    for (uint32_t k = 0; k < inner; ++k) {
      typename forest_type::level_node n = {0.0f, 0u};  // padding: either side leads to the same leaf
      uint8_t missing_left = 0u;
      if (at[k] >= 0) {
        const typename forest_type::node& d = e.nodes[forest_type::index(at[k])];
        n.threshold = d.threshold;
        n.feature = d.feature;
        missing_left = e.missing_left[forest_type::index(at[k])];
        at[2 * k + 1] = d.child[0];
        at[2 * k + 2] = d.child[1];
        ++splits;
      } else {
        at[2 * k + 1] = at[2 * k + 2] = at[k];
      }
      e.level_nodes.push_back(n);
      e.level_missing_left.push_back(missing_left);
    }
    if (inner > 4u * splits) {  // too sparse: lanes
      e.all_level = false;
      e.level_nodes.resize(first_node);
      e.level_missing_left.resize(first_node);
      continue;
    }
    e.level[t].depth = depth;
    e.level[t].first_node = static_cast<uint32_t>(first_node);
    e.level[t].first_leaf = static_cast<uint32_t>(e.level_leaves.size());
    for (uint32_t k = inner; k < 2u * inner + 1u; ++k) e.level_leaves.push_back(static_cast<uint32_t>(~at[k]));
  }
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

// Rows that walk_tree() walks side by side: one bit each of a 64-bit mask.
// Measured on forests of 10 to 100 trees: 8 lanes reach about 0.7 of the
// speed of 32, 64 a few percent more than 32.
const unsigned walk_lanes = 64;

// Bit l set where lane l's position at[l] is negative (a leaf), for the
// walk_lanes lanes of walk_tree(). Apart from the steps, and four lanes to
// an instruction where SSE2 has one that gathers sign bits, so that a lane's
// step stays a load, a compare and a load.
inline uint64_t leaf_lanes(const int32_t* at) {
#if defined(__SSE2__) || defined(_M_X64)
  uint64_t mask = 0;
  for (unsigned q = 0; q < walk_lanes / 4u; ++q) {
    const __m128 v = _mm_castsi128_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(at) + q));
    mask |= static_cast<uint64_t>(_mm_movemask_ps(v)) << (4u * q);
  }
  return mask;
#else
  uint64_t mask = 0;
  for (unsigned l = 0; l < walk_lanes; ++l) mask |= static_cast<uint64_t>(static_cast<uint32_t>(at[l]) >> 31) << l;
  return mask;
#endif
}

// Asks for the cache lines of a row that a lane has just taken, so that
// they are in L1 by its first step, a pass later: a block of rows is
// larger than L1 (up to 512 KiB), and each step of a lane would otherwise
// wait on L2 for the feature it compares. Measured on forests of 10 to
// 500 trees on 60 features: 7-20 % less time per batch.
inline void prefetch_row(const float* x, size_t n_features) {
#if defined(__GNUC__) || defined(__clang__)
  const size_t line = 64;
  const uintptr_t last = reinterpret_cast<uintptr_t>(x + n_features) - 1u;
  for (uintptr_t a = reinterpret_cast<uintptr_t>(x) & ~static_cast<uintptr_t>(line - 1u); a <= last; a += line) {
    __builtin_prefetch(reinterpret_cast<const void*>(a));
  }
#else
  (void)x;
  (void)n_features;
#endif
}

// Whether any of `count` values may be missing; an infinity counts too:
// rare, and then the exact walk runs.
inline bool any_missing(const float* x, size_t count) {
  return any_non_finite(x, count);
}

// Calls reached(i, leaf) with the leaf row that row i of X reaches in the
// tree at `root` (a split node), for every row i < n, in no set order.
// `lanes` rows walk side by side, each lane taking the next row as soon as
// its row reaches a leaf: the lanes' independent loads and comparisons
// overlap instead of each walk waiting on its previous node, and an exit
// costs one lane's refill, so rows of unlike path lengths keep every lane
// busy.
template <bool may_be_missing, typename Real, typename Reached>
void walk_tree(const expanded_forest<Real>& e, int32_t root, const float* X, size_t n, Reached& reached) {
  typedef expanded_forest<Real> forest_type;
  const unsigned lanes = walk_lanes;
  const int32_t start = forest_type::offset(static_cast<size_t>(root));
  const size_t n_features = e.n_features;
  const typename forest_type::node* nodes = e.nodes.data();
  const uint8_t* missing_left = e.missing_left.data();
  size_t next = 0;  // the next row no lane has taken
  size_t row[lanes];
  const float* x[lanes];
  int32_t at[lanes];
  unsigned active = 0;
  for (; active < lanes && next < n; ++active, ++next) {
    row[active] = next;
    x[active] = X + next * n_features;
    prefetch_row(x[active], n_features);
    at[active] = start;
  }
  // Every lane is at a split node at the top of each pass.
  while (next + lanes <= n) {
    // Rows enough for every lane to refill in this pass: step all lanes
    // (four to an iteration: the loop's own count and jump cost as much as
    // a step's work), then note the finished ones in a mask (no branch per
    // lane) and refill those.
    for (unsigned l = 0; l < lanes; l += 4) {
      for (unsigned u = l; u < l + 4u; ++u) {
        at[u] = forest_type::template step<may_be_missing>(nodes, missing_left, at[u], x[u]);
      }
    }
    uint64_t finished = leaf_lanes(at);
    while (finished) {
      const unsigned l = lowest_bit(finished);
      finished &= finished - 1u;
      reached(row[l], static_cast<uint32_t>(~at[l]));
      row[l] = next;
      x[l] = X + next * n_features;
      prefetch_row(x[l], n_features);
      at[l] = start;
      ++next;
    }
  }
  // The last rows: lanes retire as the rows run out.
  while (active) {
    for (unsigned l = 0; l < active; ++l) {
      at[l] = forest_type::template step<may_be_missing>(nodes, missing_left, at[l], x[l]);
    }
    for (unsigned l = 0; l < active;) {
      if (at[l] >= 0) {
        ++l;
        continue;
      }
      reached(row[l], static_cast<uint32_t>(~at[l]));
      if (next < n) {
        row[l] = next;
        x[l] = X + next * n_features;
        prefetch_row(x[l], n_features);
        at[l] = start;
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

// walk_tree() for a tree in level order, of depth `depth`: each row takes
// `depth` steps of arithmetic. The rows are independent, so the processor
// overlaps several of them; no branch depends on the data.
template <unsigned depth, bool may_be_missing, typename Real, typename Reached>
void walk_level_tree(const expanded_forest<Real>& e, const typename expanded_forest<Real>::level_tree& tree,
                     const float* X, size_t n, Reached& reached) {
  typedef expanded_forest<Real> forest_type;
  const typename forest_type::level_node* nodes = e.level_nodes.data() + tree.first_node;
  const uint8_t* missing_left = e.level_missing_left.data() + tree.first_node;
  const uint32_t* leaves = e.level_leaves.data() + tree.first_leaf;
  const size_t n_features = e.n_features;
  const uint32_t first_leaf = (1u << depth) - 1u;
  // Groups of rows walk in step: their loads overlap.
  const size_t group = 8;
  size_t i = 0;
  for (; i + group <= n; i += group) {
    const float* x = X + i * n_features;
    uint32_t k[16];
    for (size_t r = 0; r < group; ++r) k[r] = 0;
    for (unsigned d = 0; d < depth; ++d) {
      for (size_t r = 0; r < group; ++r) {
        const typename forest_type::level_node& node = nodes[k[r]];
        k[r] = 2u * k[r] + 1u +
               forest_type::template goes_right<may_be_missing>(node.threshold, node.feature, x + r * n_features,
                                                                missing_left + k[r]);
      }
    }
    for (size_t r = 0; r < group; ++r) reached(i + r, leaves[k[r] - first_leaf]);
  }
  for (; i < n; ++i) {
    const float* x = X + i * n_features;
    uint32_t k = 0;
    for (unsigned d = 0; d < depth; ++d) {
      k = 2u * k + 1u +
          forest_type::template goes_right<may_be_missing>(nodes[k].threshold, nodes[k].feature, x, missing_left + k);
    }
    reached(i, leaves[k - first_leaf]);
  }
}

// walk_level_tree() with the tree's depth as a constant, so that the steps unroll.
template <bool may_be_missing, typename Real, typename Reached>
void walk_level_tree(const expanded_forest<Real>& e, const typename expanded_forest<Real>::level_tree& tree,
                     const float* X, size_t n, Reached& reached) {
  switch (tree.depth) {
#define EMLEARN_GEN_LEVEL_DEPTH(d) \
  case d: return walk_level_tree<d, may_be_missing>(e, tree, X, n, reached);
    EMLEARN_GEN_LEVEL_DEPTH(1) EMLEARN_GEN_LEVEL_DEPTH(2) EMLEARN_GEN_LEVEL_DEPTH(3) EMLEARN_GEN_LEVEL_DEPTH(4)
    EMLEARN_GEN_LEVEL_DEPTH(5) EMLEARN_GEN_LEVEL_DEPTH(6) EMLEARN_GEN_LEVEL_DEPTH(7) EMLEARN_GEN_LEVEL_DEPTH(8)
    EMLEARN_GEN_LEVEL_DEPTH(9) EMLEARN_GEN_LEVEL_DEPTH(10) EMLEARN_GEN_LEVEL_DEPTH(11) EMLEARN_GEN_LEVEL_DEPTH(12)
#undef EMLEARN_GEN_LEVEL_DEPTH
    default: throw std::logic_error("trees: a level-order tree deeper than max_level_depth");
  }
}

// Rows of a block of expanded_sums(). Where every tree is in level order,
// as many as keep the block's rows and sums within 16 KiB (L1 cache: each
// tree is walked over the whole block, and a level-order step is so short
// that a miss would dominate it); else within 128 KiB, which amortises the
// lanes' start and end over more rows. From 64 to 1024 rows. A forest whose
// nodes outgrow the L2 cache (256 KiB; the benchmark's 500 full-depth trees
// on 60 features take 2.8 MiB) brings each tree's nodes in again for every
// block, so it takes blocks of up to 512 KiB and 2048 rows. Measured on
// those 500 trees: 20-35 % less time than with blocks of 128 KiB; on 100 of
// them (0.55 MiB), the same within the timings' noise.
template <typename Real>
size_t sum_block_rows(const expanded_forest<Real>& e) {
  const size_t row_bytes = static_cast<size_t>(e.width) * sizeof(Real) + e.n_features * sizeof(float);
  const bool nodes_outgrow_l2 = e.nodes.size() * sizeof(typename expanded_forest<Real>::node) > (size_t(256) << 10);
  const size_t budget = e.all_level ? size_t(16) << 10 : size_t(nodes_outgrow_l2 ? 512 : 128) << 10;
  const size_t most = nodes_outgrow_l2 ? 2048 : 1024;
  return std::max<size_t>(64, std::min<size_t>(most, budget / row_bytes));
}

// Calls reached(i, leaf) with the leaf row that row i of X reaches in tree
// t, for every row i < n, walked as the tree is laid out.
template <typename Real, typename Reached>
void walk_any_tree(const expanded_forest<Real>& e, size_t t, const float* X, size_t n, bool missing,
                   Reached& reached) {
  const int32_t root = e.roots[t];
  if (root < 0) {  // a tree that is one leaf
    for (size_t i = 0; i < n; ++i) reached(i, static_cast<uint32_t>(~root));
  } else if (e.level[t].depth != 0u) {
    if (missing) {
      walk_level_tree<true>(e, e.level[t], X, n, reached);
    } else {
      walk_level_tree<false>(e, e.level[t], X, n, reached);
    }
  } else if (missing) {
    walk_tree<true>(e, root, X, n, reached);
  } else {
    walk_tree<false>(e, root, X, n, reached);
  }
}

// forest_sum() of rows 0..n of X (rows without NaN where `finite`), on the
// expanded forest: width sums per row to `sums`. The trees are walked one
// after the other over all n rows (a tree's nodes stay in cache while it
// serves them); each row adds its leaf row of tree t as it reaches it, after
// those of trees 0..t-1, so every row sums its leaves in tree order from
// zero, exactly as forest_sum() does.
template <typename Real>
void expanded_sums(const expanded_forest<Real>& e, bool finite, const float* X, size_t n, Real* sums) {
  const size_t width = e.width;
  const size_t row_width = e.row_width;
  std::fill(sums, sums + n * width, emlearn_gen::zero<Real>());
  // Blocks without NaN (most) skip the missing-value test at every node;
  // `finite` rows have none.
  const bool missing = !finite && any_missing(X, n * e.n_features);
  const Real* values = e.rows.data();
  const uint32_t* to = e.leaf_sum.data();
  for (size_t t = 0; t < e.n_trees; ++t) {
    Real* first = sums + (e.offsets.empty() ? 0u : e.offsets[t]);
    if (!e.leaf_sum.empty()) {  // pure leaves: one sum per leaf
      auto add = [first, values, width, to](size_t i, uint32_t leaf) { first[i * width + to[leaf]] += values[leaf]; };
      walk_any_tree(e, t, X, n, missing, add);
    } else if (row_width == 1) {  // regressors, boosting, isolation forests: no loop per leaf
      auto add = [first, values, width](size_t i, uint32_t leaf) { first[i * width] += values[leaf]; };
      walk_any_tree(e, t, X, n, missing, add);
    } else {
      auto add = [first, values, width, row_width](size_t i, uint32_t leaf) {
        const Real* v = values + static_cast<size_t>(leaf) * row_width;
        Real* y = first + i * width;
        for (size_t j = 0; j < row_width; ++j) y[j] += v[j];
      };
      walk_any_tree(e, t, X, n, missing, add);
    }
  }
}

// expanded_sums() of the one row x on a forest whose trees are all in level
// order (or single leaves): per tree `depth` steps of arithmetic and one
// leaf row added, in tree order from zero as forest_sum() adds them. A block
// of one row would pay the block's set-up per tree; the header's walk, a
// branch per split that the processor mispredicts about half the time.
template <bool may_be_missing, bool one_value, typename Real>
void level_row_sums(const expanded_forest<Real>& e, const float* x, Real* sums) {
  typedef expanded_forest<Real> forest_type;
  const size_t row_width = one_value ? 1u : e.row_width;
  std::fill(sums, sums + e.width, emlearn_gen::zero<Real>());
  const Real* values = e.rows.data();
  const int32_t* roots = e.roots.data();
  const typename forest_type::level_tree* level = e.level.data();
  const typename forest_type::level_node* level_nodes = e.level_nodes.data();
  const uint8_t* level_missing_left = e.level_missing_left.data();
  const uint32_t* level_leaves = e.level_leaves.data();
  const uint32_t* offsets = e.offsets.empty() ? nullptr : e.offsets.data();
  const uint32_t* to = e.leaf_sum.empty() ? nullptr : e.leaf_sum.data();
  for (size_t t = 0; t < e.n_trees; ++t) {
    uint32_t leaf;
    if (roots[t] < 0) {
      leaf = static_cast<uint32_t>(~roots[t]);
    } else {
      const typename forest_type::level_tree& tree = level[t];
      const typename forest_type::level_node* nodes = level_nodes + tree.first_node;
      const uint8_t* missing_left = level_missing_left + tree.first_node;
      uint32_t k = 0;
      for (uint32_t d = 0; d < tree.depth; ++d) {
        k = 2u * k + 1u +
            forest_type::template goes_right<may_be_missing>(nodes[k].threshold, nodes[k].feature, x, missing_left + k);
      }
      leaf = level_leaves[tree.first_leaf + k - ((1u << tree.depth) - 1u)];
    }
    Real* y = offsets ? sums + offsets[t] : sums;
    if (one_value) {
      y[to ? to[leaf] : 0u] += values[leaf];
    } else {
      const Real* v = values + static_cast<size_t>(leaf) * row_width;
      for (size_t j = 0; j < row_width; ++j) y[j] += v[j];
    }
  }
}

// level_row_sums() with its two switches as constants.
template <typename Real>
void level_row_sums(const expanded_forest<Real>& e, bool missing, const float* x, Real* sums) {
  if (e.row_width == 1u) {
    return missing ? level_row_sums<true, true>(e, x, sums) : level_row_sums<false, true>(e, x, sums);
  }
  return missing ? level_row_sums<true, false>(e, x, sums) : level_row_sums<false, false>(e, x, sums);
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
    f_.record_bytes = static_cast<uint8_t>(f.get("record_bytes", 8));
    size_t n_leaf_starts_bytes = 0, n_leaf_entries_bytes = 0;
    f_.leaf_starts = t.get<uint8_t>("leaf_starts", &n_leaf_starts_bytes);
    f_.leaf_entries = t.get<uint8_t>("leaf_entries", &n_leaf_entries_bytes);
    f_.entry_class_bits = static_cast<uint8_t>(f.get("entry_class_bits", 16));
    f_.start_bits = static_cast<uint8_t>(f.get("start_bits", 31));
    f_.nonnegative_thresholds = static_cast<uint8_t>(f.get("nonnegative_thresholds", 1));
    size_t n_fixed = 0;
    f_.leaf_fixed = t.get<int16_t>("leaf_fixed", &n_fixed);
    f_.n_fixed = static_cast<uint32_t>(n_fixed);
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
                                                    n_leaf_classes_bytes, n_leaf_starts_bytes, n_leaf_entries_bytes),
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
    // Categorical splits are decided by the header's walk only (see
    // for_each_sum), as are forests too large for the expanded nodes' 32-bit
    // byte offsets.
    const size_t node_bytes = sizeof(typename expanded_forest<Real>::node);
    if (f_.n_cat_values == 0u && f_.n_nodes <= static_cast<uint32_t>(INT32_MAX) / node_bytes) {
      expanded_forest<Real> e = expand<Word>(f_);
      add_level_order(e);
      expanded_ = std::make_shared<const expanded_forest<Real>>(std::move(e));
    }
  }

  uint32_t n_features() const override { return f_.n_features; }

  entry_function entry(const std::string& name, output_kind kind, uint32_t width) const override {
    return make_entry(name, kind, width, false);
  }

  entry_function entry_finite(const std::string& name, output_kind kind, uint32_t width) const override {
    return make_entry(name, kind, width, true);
  }

 private:
  // entry(), or entry_finite() with `finite`: then the rows hold no NaN,
  // and a batch is not scanned for missing values.
  entry_function make_entry(const std::string& name, output_kind kind, uint32_t width, bool finite) const {
    const emlearn_gen::forest<Real>& f = f_;
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
    // Every other entry point finishes each row's forest_sum() as the
    // header's entry point does after its own walk.
    if (f_.boost != 0) {
      const bool binary = f_.boost == emlearn_gen::boost_link::logistic ||
                          f_.boost == emlearn_gen::boost_link::logistic2x ||
                          f_.boost == emlearn_gen::boost_link::logistic_positive;
      const bool regressor = f_.boost == emlearn_gen::boost_link::identity || f_.boost == emlearn_gen::boost_link::exp;
      const uint32_t n_classes = binary ? 2u : leaf_width;
      if (name == "predict" && kind == output_kind::int_scalar && !regressor) {
        return from_sums(finite, sizeof(int32_t), [f](Real* sums, void* out) {
          *static_cast<int32_t*>(out) = emlearn_gen::boost_label_of_sums(f, sums);
        });
      }
      const bool samme = f_.boost == emlearn_gen::boost_link::samme;
      const uint32_t n_decision = samme && leaf_width == 2u ? 1u : leaf_width;
      const bool raw = (name == "decision_function" || name == "predict") && width == n_decision;
      const bool proba = name == "predict_proba" && width == n_classes && !regressor;
      if (kind == output_kind::float_vector && proba) {
        return from_sums(finite, width * sizeof(float), [f](Real* sums, void* out) {
          emlearn_gen::boost_proba_of_sums(f, sums, static_cast<float*>(out));
        });
      }
      if (kind == output_kind::float_vector && raw) {
        return from_sums(finite, width * sizeof(float), [f](Real* sums, void* out) {
          emlearn_gen::boost_raw_of_sums(f, sums, static_cast<float*>(out));
        });
      }
      throw std::invalid_argument("the trees kernel has no boosted entry point '" + name + "' of width " +
                                  std::to_string(width));
    }
    if (outlier_) {
      if (name == "predict" && kind == output_kind::int_scalar) {
        return from_sums(finite, sizeof(int32_t), [f](Real* sum, void* out) {
          *static_cast<int32_t*>(out) = emlearn_gen::isolation_predict_of_sum(f, *sum);
        });
      }
      if (name == "score_samples" && kind == output_kind::float_vector && width == 1) {
        return from_sums(finite, sizeof(float), [f](Real* sum, void* out) {
          *static_cast<float*>(out) = emlearn_gen::isolation_score_of_sum(f, *sum);
        });
      }
      if (name == "decision_function" && kind == output_kind::float_vector && width == 1) {
        return from_sums(finite, sizeof(float), [f](Real* sum, void* out) {
          *static_cast<float*>(out) = emlearn_gen::isolation_decision_of_sum(f, *sum);
        });
      }
    }
    if (width == leaf_width && kind == output_kind::float_vector &&
        (name == "predict" || name == "predict_proba")) {
      // The mean of the leaves (forest_mean()), narrowed to float as the header narrows it.
      return from_sums(finite, width * sizeof(float), [leaf_width, f](Real* sums, void* out) {
        float* y = static_cast<float*>(out);
        for (uint32_t j = 0; j < leaf_width; ++j) y[j] = emlearn_gen::to_float(emlearn_gen::divide(sums[j], f.n_trees));
      });
    }
    if (name == "predict" && kind == output_kind::int_scalar) {
      // The class a generated classifier's predict() returns: argmax of forest_mean().
      return from_sums(finite, sizeof(int32_t), [leaf_width, f](Real* sums, void* out) {
        for (uint32_t j = 0; j < leaf_width; ++j) sums[j] = emlearn_gen::divide(sums[j], f.n_trees);
        *static_cast<int32_t*>(out) = emlearn_gen::argmax(sums, static_cast<int32_t>(leaf_width));
      });
    }
    throw std::invalid_argument("the trees kernel has no entry point '" + name + "' of " +
                                kind_name(kind) + " output and width " + std::to_string(width));
  }

  // Runs finish(i, sums) for each row i of X, `sums` its leaf_width sums as
  // forest_sum() computes them (finish may rewrite them). More than one row
  // takes the expanded forest, a block of rows at a time, which gives the
  // same bits faster. One row takes the level-order trees where every tree
  // has them (boosting's shallow stages, isolation forests), else the
  // header's own walk (no block to set up); a model with categorical splits,
  // which the expanded forest does not decode, the header's walk row by row.
  template <typename Finish>
  static void for_each_sum(const emlearn_gen::forest<Real>& f, const expanded_forest<Real>* e, bool finite,
                           const float* X, size_t n, Finish& finish) {
    if (n == 1 || e == nullptr) {
      // Most models have few sums: those stay on the stack.
      Real local[16];
      std::vector<Real> heap(f.leaf_width > 16u ? f.leaf_width : 0u);
      Real* sums = heap.empty() ? local : heap.data();
      if (n == 1 && e != nullptr && e->all_level) {
        level_row_sums(*e, !finite && any_missing(X, f.n_features), X, sums);
        finish(0, sums);
        return;
      }
      for (size_t i = 0; i < n; ++i) {
        emlearn_gen::forest_sum<Word>(f, X + i * f.n_features, sums);
        finish(i, sums);
      }
      return;
    }
    const size_t block = sum_block_rows(*e);
    std::vector<Real> sums((n < block ? n : block) * e->width);
    for (size_t start = 0; start < n; start += block) {
      const size_t rows = n - start < block ? n - start : block;
      expanded_sums(*e, finite, X + start * f.n_features, rows, sums.data());
      for (size_t i = 0; i < rows; ++i) finish(start + i, sums.data() + i * e->width);
    }
  }

  // The entry point that writes `stride` bytes for each row: those that
  // finish(sums, out) makes of the row's sums.
  template <typename Finish>
  entry_function from_sums(bool finite, size_t stride, Finish finish) const {
    if (f_.n_trees == 1u) return per_leaf(finite, stride, finish);
    const emlearn_gen::forest<Real> f = f_;
    const std::shared_ptr<const expanded_forest<Real>> e = expanded_;
    return [f, e, finite, stride, finish](const float* X, size_t n, void* out) {
      char* y = static_cast<char*>(out);
      auto row_finish = [y, stride, &finish](size_t i, Real* sums) { finish(sums, y + i * stride); };
      for_each_sum(f, e.get(), finite, X, n, row_finish);
    };
  }

  // from_sums() for a model of one tree (a decision tree, a boosting of one
  // stage): a row's sums, and so its result, depend only on the leaf it
  // reaches. Each leaf's result is computed once here, from the sums
  // forest_sum() makes of that leaf (zeros, then the leaf row added), so a
  // prediction is a walk and a copy: no sums, divisions or argmax per row,
  // and the same bits as the sums would give.
  template <typename Finish>
  entry_function per_leaf(bool finite, size_t stride, Finish finish) const {
    const emlearn_gen::forest<Real> f = f_;
    const std::shared_ptr<const expanded_forest<Real>> e = expanded_;
    const size_t words = stride / sizeof(uint32_t);  // results are int32 or float
    std::shared_ptr<std::vector<uint32_t>> results = std::make_shared<std::vector<uint32_t>>(f.n_leaves * words);
    std::vector<Real> sums(f.leaf_width);
    const uint32_t first = emlearn_gen::detail::tree_sum<Word>(f, 0u);
    for (uint32_t leaf = 0; leaf < f.n_leaves; ++leaf) {
      std::fill(sums.begin(), sums.end(), emlearn_gen::zero<Real>());
      emlearn_gen::forest_add_leaf<Word>(f, leaf, sums.data() + first);
      finish(sums.data(), results->data() + static_cast<size_t>(leaf) * words);
    }
    const std::shared_ptr<const std::vector<uint32_t>> table = results;
    return [f, e, finite, table, words, stride, finish](const float* X, size_t n, void* out) {
      uint32_t* y = static_cast<uint32_t*>(out);
      const uint32_t* r = table->data();
      if (n == 1) {  // the header's own walk and sums, as its entry point runs them
        char* bytes = static_cast<char*>(out);
        auto row_finish = [bytes, stride, &finish](size_t i, Real* sums) { finish(sums, bytes + i * stride); };
        for_each_sum(f, nullptr, finite, X, n, row_finish);
      } else if (words == 1u) {
        auto put = [y, r](size_t i, uint32_t leaf) { y[i] = r[leaf]; };
        leaves_of_rows(f, e.get(), finite, X, n, put);
      } else {
        auto put = [y, r, words](size_t i, uint32_t leaf) {
          std::memcpy(y + i * words, r + static_cast<size_t>(leaf) * words, words * sizeof(uint32_t));
        };
        leaves_of_rows(f, e.get(), finite, X, n, put);
      }
    };
  }

  // Calls reached(i, leaf) with the leaf that row i of X reaches in the
  // model's one tree, for every row i < n: on the expanded tree a block at
  // a time (a block is scanned for NaN just before it is walked, while its
  // rows are in cache; most have none and skip the missing-value test at
  // every node), or by the header's walk where categorical splits leave no
  // expanded tree.
  template <typename Reached>
  static void leaves_of_rows(const emlearn_gen::forest<Real>& f, const expanded_forest<Real>* e, bool finite,
                             const float* X, size_t n, Reached& reached) {
    if (e == nullptr) {
      for (size_t i = 0; i < n; ++i) reached(i, emlearn_gen::forest_leaf<Word>(f, 0u, X + i * f.n_features));
      return;
    }
    // Rows of about 256 KiB (L2 cache), at least 1024 so that the lanes' start and end stay short.
    const size_t block = std::max<size_t>(1024, (size_t(256) << 10) / (f.n_features * sizeof(float)));
    for (size_t start = 0; start < n; start += block) {
      const size_t rows = std::min(block, n - start);
      const float* x = X + start * f.n_features;
      auto in_block = [start, &reached](size_t i, uint32_t leaf) { reached(start + i, leaf); };
      walk_any_tree(*e, 0, x, rows, !finite && any_missing(x, rows * f.n_features), in_block);
    }
  }

  emlearn_gen::forest<Real> f_{};
  bool outlier_ = false;
  std::shared_ptr<const expanded_forest<Real>> expanded_;  // null for categorical splits
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
