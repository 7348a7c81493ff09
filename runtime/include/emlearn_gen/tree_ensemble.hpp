// emlearn-gen runtime: decision trees and tree ensembles.
//
// A model is a set of compact tables walked by one kernel (a single tree of
// a few splits the generator writes out as if/else code instead, deciding
// each split with detail::split_left_by_bits). Split nodes are stored in
// pre-order as fixed-width bit records, so the left child of an inner node
// is simply the next record:
//
//   bit 0 ......... feature index                      (feature_bits)
//   next 3 bits ... flags: 1 = left child is a leaf,
//                          2 = right child is a leaf,
//                          4 = missing values (NaN) go left
//   next .......... ref                                (ref_bits)
//   top ........... threshold index                    (thr_bits, may be 0)
//
// `ref` says where the child that is not the next record lives:
//   left inner,  right inner -> right child is node (this + ref)
//   left inner,  right leaf  -> right child is leaf ref
//   left leaf,   right inner -> left child is leaf ref, right is the next node
//   left leaf,   right leaf  -> left is leaf ref, right is leaf ref + 1
// Records are bit-packed (record_bytes 0: record i at bit i * record_bits)
// or take whole bytes each (record_bytes > 0: record i is the little-endian
// value of bytes [i * record_bytes, (i + 1) * record_bytes), its bits above
// record_bits zero), which the kernel reads with no variable shift, in one
// load where the machine has unaligned loads (read_bytes; the table is
// padded for its widest load); the generator takes whole bytes where they
// cost little table memory.
// Leaves are rows of `leaf_width` values, deduplicated across the model.
// Sparse rows (tree_class_bits > 0; multi-class boosting, where each tree
// adds to one class): a row is one value, and tree t adds it to sum
// tree_classes[t] (n_trees fields of tree_class_bits) of the leaf_width sums.
// With value_bits == 0 `leaves` holds the rows themselves; otherwise it holds
// the model's distinct leaf values and `leaf_codes` gives, for each value of
// each row, a value_bits-wide index into them (class fractions repeat a lot).
// Entry rows (entry_class_bits > 0; classifiers' rows of class fractions,
// mostly zeros): a row is the list of its nonzero values, each an entry of
// value_bits + entry_class_bits + 1 bits in `leaf_entries` (8 or 16: whole
// bytes, read without a shift, as leaf_starts of 8 or 16 bits): from bit 0,
// the value's index into `leaves` (value_bits), its class (entry_class_bits)
// and a flag set on the row's last entry. Row `leaf` starts at entry
// leaf_starts[leaf] (n_leaves fields of start_bits); a row of zeros only is
// one entry of a zero value. Skipping zeros is exact: see add_leaf_value.
// `leaf_codes` is empty. Float64 entry rows of values in [0, 1] in a model of
// several trees also hold, per value, its summand in forest_label's integer
// approximations of the class sums (`leaf_fixed`, n_fixed = n_values).
// Class votes (leaf_class_bits > 0; classifiers whose every leaf row is
// one-hot, as in forests of full-depth trees): a row is one class, the
// n_leaves fields of leaf_class_bits in `leaf_classes`, and `leaves` and
// `leaf_codes` are empty. Such a row adds exactly 1 to its class's sum and
// +0 to the others, so the float sums of today's kernels are the vote
// counts, exactly: the kernels count votes in integers and divide only to
// give probabilities, with the same rounding (forest_vote_shares).
// With thr_bits == 0 every node has its own entry in `thresholds`; otherwise
// the record indexes a table of distinct thresholds. With
// nonnegative_thresholds no threshold has its sign bit set, and the walk
// compares the bits of values with those of thresholds as integers
// (detail::split_left_nonnegative).
//
// Thresholds are float32 values rounded *down* from scikit-learn's float64
// thresholds, so `x <= t` in float32 decides exactly as scikit-learn's
// float64 comparison does for every float32 input.
//
// Categorical features (n_cat_values > 0; HistGradientBoosting). Feature f
// is categorical when cat_starts[f] < cat_starts[f + 1] (n_features + 1
// fields of cat_start_bits): its categories are the sorted, distinct values
// cat_values[cat_starts[f] .. cat_starts[f + 1]), and the code of an input
// value is its index there (exact equality, as scikit-learn's encoder finds
// it). A node on a categorical feature is a categorical split: its entry in
// `thresholds` is not a threshold but the bit position, an integer, of its
// bitset in `cat_bits`, one bit per category of the feature: code c goes
// left where bit c is set. NaN, and a value that is none of the feature's
// categories, go where the node's missing flag says (scikit-learn's encoder
// makes unknown categories missing).
#ifndef EMLEARN_GEN_TREE_ENSEMBLE_HPP
#define EMLEARN_GEN_TREE_ENSEMBLE_HPP

#include "common.hpp"
#include "float64.hpp"
#include "math.hpp"

// Version of the table layout below. Generated headers check it, so a header
// compiles against any runtime that reads its tables the same way; change it
// with any change to the layout or to what the kernels compute from it.
#define EMLEARN_GEN_TREES_FORMAT 7

namespace emlearn_gen {

/// Tables and layout of a tree ensemble, known at run time (the host
/// runtime). All pointers refer to model tables (program memory on AVR);
/// sizes are in elements.
///
/// The kernels below take any type `F` with these members and `real_type`.
/// Generated headers pass a type whose members are all `static constexpr`,
/// so every width, shift and mask is a compile-time constant in the device
/// code whether or not the compiler inlines the kernel, and no descriptor
/// object exists in memory at all. A table member may also be anything
/// table_read(table, index) and read_bits<Word>(table, pos, width) read,
/// such as a far_table (large models on AVR).
template <typename Real>
struct forest {
  typedef Real real_type;
  const uint8_t* nodes;      ///< n_nodes records of record_bits, + padding
  const float* thresholds;   ///< n_thresholds values
  const Real* leaves;        ///< n_values values: rows, or distinct values
  const uint8_t* leaf_codes; ///< n_leaves * row width fields of value_bits
  const uint8_t* roots;      ///< n_trees fields of root_bits, + padding
  uint32_t n_nodes;          ///< split nodes in all trees
  uint32_t n_thresholds;
  uint32_t n_leaves;         ///< distinct leaf rows
  uint32_t n_values;         ///< entries of `leaves`
  uint32_t n_trees;
  uint32_t n_features;
  uint16_t leaf_width;       ///< classes (classifiers) or outputs (regressors)
  uint8_t feature_bits;
  uint8_t ref_bits;
  uint8_t thr_bits;
  uint8_t root_bits;         ///< a root >= n_nodes is leaf (root - n_nodes)
  uint8_t value_bits;        ///< 0: `leaves` holds the rows directly
  const Real* real_constants;   ///< isolation forests: {sum below which x is an outlier};
                                ///< AdaBoost: {sum of the estimator weights}
  const float* float_constants; ///< isolation forests: {score scale, offset}
  uint8_t boost;             ///< boosted models: their link (boost_link); 0: a mean
  const float* cat_values;   ///< n_cat_values: the categories of each categorical feature
  const uint8_t* cat_starts; ///< n_features + 1 fields of cat_start_bits (n_cat_values > 0)
  const uint8_t* cat_bits;   ///< bitsets of the categorical splits, one bit per category
  uint32_t n_cat_values;     ///< 0: no categorical features
  uint8_t cat_start_bits;
  const uint8_t* tree_classes; ///< sparse rows: n_trees fields of tree_class_bits
  uint8_t tree_class_bits;   ///< 0: rows of leaf_width values; else one value per row
  const uint8_t* leaf_classes; ///< class votes: n_leaves fields of leaf_class_bits
  uint8_t leaf_class_bits;   ///< 0: leaf rows of values; else each row is one class's vote
  uint8_t record_bytes;      ///< 0: bit-packed records; else bytes per record
  const uint8_t* leaf_starts;  ///< entry rows: n_leaves fields of start_bits
  const uint8_t* leaf_entries; ///< entry rows: the entries of value_bits + entry_class_bits + 1 bits
  uint8_t entry_class_bits;  ///< 0: rows of leaf_width values; else entry rows
  uint8_t start_bits;
  uint8_t nonnegative_thresholds;  ///< 1: every threshold's sign bit is clear (no negative, no -0)
  const int16_t* leaf_fixed;  ///< n_fixed: per value of `leaves`, its approximate summand (forest_label)
  uint32_t n_fixed;          ///< 0, or n_values (float64 entry rows of values in [0, 1], 2 to 2^17 trees)
};

/// How a boosted model's raw scores (the sum of its leaves; the first tree
/// holds the init estimator's row) become outputs.
namespace boost_link {
enum : uint8_t {
  identity = 1,    ///< regressors: the raw score
  logistic = 2,    ///< binary: p = sigmoid(raw)
  logistic2x = 3,  ///< binary, exponential loss: p = sigmoid(2 raw)
  softmax = 4,     ///< one raw score per class
  samme = 5,       ///< AdaBoost (SAMME): weighted votes / real_constants[0]
  median = 6,      ///< AdaBoost.R2: weighted median of the trees' values,
                   ///< weights in real_constants[0..n_trees)
  logistic_positive = 7,  ///< binary, p = sigmoid(raw), but class 1 only
                          ///< where raw > 0 (HistGradientBoosting)
  exp = 8,         ///< regressors: exp(raw) (log link: gamma, poisson)
};
}  // namespace boost_link

namespace detail {
constexpr uint32_t flag_left_leaf = 1u;
constexpr uint32_t flag_right_leaf = 2u;
constexpr uint32_t flag_missing_left = 4u;
constexpr uint8_t flag_bits = 3u;

template <typename F>
constexpr uint8_t record_bits(const F& f) {
  return static_cast<uint8_t>(f.feature_bits + flag_bits + f.ref_bits + f.thr_bits);
}

/// The record of split node `node`: its record_bits bits (above them, zero).
template <typename Word, typename F>
inline Word node_record(const F& f, uint32_t node) {
  if (f.record_bytes != 0u) {
    return read_bytes<Word>(f.nodes, node * static_cast<uint32_t>(f.record_bytes), f.record_bytes);
  }
  return read_bits<Word>(f.nodes, node * static_cast<uint32_t>(record_bits(f)), record_bits(f));
}

/// Values in one leaf row: leaf_width, or 1 for sparse rows.
template <typename F>
constexpr uint16_t row_width(const F& f) {
  return f.tree_class_bits != 0u ? static_cast<uint16_t>(1u) : f.leaf_width;
}

/// The first of the sums that tree `t`'s row adds to: its class for sparse
/// rows, else 0 (the row covers every sum).
template <typename Word, typename F>
inline uint32_t tree_sum(const F& f, uint32_t t) {
  if (f.tree_class_bits == 0u) {
    return 0u;
  }
  return static_cast<uint32_t>(
      read_bits<Word>(f.tree_classes, t * static_cast<uint32_t>(f.tree_class_bits), f.tree_class_bits));
}

/// Bits of one entry of an entry row (entry_class_bits > 0).
template <typename F>
constexpr uint8_t entry_bits(const F& f) {
  return static_cast<uint8_t>(f.value_bits + f.entry_class_bits + 1u);
}

/// The first entry of entry row `leaf`.
template <typename Word, typename F>
inline uint32_t row_start(const F& f, uint32_t leaf) {
  return static_cast<uint32_t>(read_field<Word>(f.leaf_starts, leaf, f.start_bits));
}

/// The class that leaf row `leaf` votes for (leaf_class_bits > 0).
template <typename Word, typename F>
inline uint32_t leaf_class(const F& f, uint32_t leaf) {
  return static_cast<uint32_t>(read_field<Word>(f.leaf_classes, leaf, f.leaf_class_bits));
}

// Whether float and double additions run in hardware. Where they do not, a
// leaf value of zero is tested for and skipped rather than added: a call to
// the software addition costs far more than the test.
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || \
    (defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 8) && !defined(__SOFTFP__)) || \
    (defined(__riscv) && defined(__riscv_flen) && __riscv_flen >= 64)
#define EMLEARN_GEN_TREES_HARD_DOUBLE 1
#else
#define EMLEARN_GEN_TREES_HARD_DOUBLE 0
#endif
#if EMLEARN_GEN_TREES_HARD_DOUBLE || (defined(__arm__) && defined(__ARM_FP) && (__ARM_FP & 4) && !defined(__SOFTFP__)) || \
    (defined(__riscv) && defined(__riscv_flen))
#define EMLEARN_GEN_TREES_HARD_FLOAT 1
#else
#define EMLEARN_GEN_TREES_HARD_FLOAT 0
#endif

// Whether accumulate() adds non-negative binary64 values with
// f64::add_nonnegative: where double is software, except where the
// compiler's library has a hand-written double addition that measured
// faster (ARM with Thumb-2 or the ARM instruction set: Cortex-M3 and up).
#if !EMLEARN_GEN_TREES_HARD_DOUBLE && \
    !(defined(__arm__) && (defined(__ARM_ARCH_ISA_ARM) || (defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB >= 2)))
#define EMLEARN_GEN_TREES_ADD_NONNEGATIVE 1
#else
#define EMLEARN_GEN_TREES_ADD_NONNEGATIVE 0
#endif

// accumulate(sum, v): sum += v. Non-negative values (class fractions and
// their sums) take f64::add_nonnegative, an exact addition of a few dozen
// integer instructions, where EMLEARN_GEN_TREES_ADD_NONNEGATIVE; others,
// and elsewhere, the generic addition.
inline void accumulate(float& sum, float v) { sum += v; }
inline void accumulate(soft_double& sum, soft_double v) {
  if (f64::add_nonnegative_applies(sum.bits, v.bits)) {
    sum.bits = f64::add_nonnegative(sum.bits, v.bits);
  } else {
    sum += v;
  }
}
#if !defined(__SIZEOF_DOUBLE__) || __SIZEOF_DOUBLE__ >= 8
inline void accumulate(double& sum, double v) {
#if !EMLEARN_GEN_TREES_ADD_NONNEGATIVE
  sum += v;
#else
  const uint64_t a = f64::to_bits(sum);
  const uint64_t b = f64::to_bits(v);
  if (f64::add_nonnegative_applies(a, b)) {
    sum = f64::real_from_bits<double>(f64::add_nonnegative(a, b));
  } else {
    sum += v;
  }
#endif
}
#else
inline void accumulate(double& sum, double v) { sum += v; }  // double is binary32 here (AVR)
#endif

// add_leaf_value(sum, v): sum += v for a sum that started at +0. Skipping a
// zero v is exact there: x + (+-0) is x for every x but -0, and a sum that
// starts at +0 never becomes -0 (rounding to nearest gives +0 for x - x, and
// -0 only for -0 + -0), with or without the skipped additions.
inline bool is_zero_value(float v) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  return (bits << 1) == 0u;
}
inline void add_leaf_value(float& sum, float v) {
  if (EMLEARN_GEN_TREES_HARD_FLOAT || !is_zero_value(v)) {
    sum += v;
  }
}
inline void add_leaf_value(soft_double& sum, soft_double v) {
  if (!f64::is_zero(v)) {
    accumulate(sum, v);
  }
}
#if !defined(__SIZEOF_DOUBLE__) || __SIZEOF_DOUBLE__ >= 8
inline void add_leaf_value(double& sum, double v) {
  if (EMLEARN_GEN_TREES_HARD_DOUBLE || (f64::to_bits(v) << 1) != 0u) {
    accumulate(sum, v);
  }
}
#else
inline void add_leaf_value(double& sum, double v) {  // double is binary32 here (AVR)
  if (!is_zero_value(static_cast<float>(v))) {
    sum += v;
  }
}
#endif

/// An integer key of a float's bits that orders as the floats do (sign and
/// magnitude to two's complement, -0 and +0 both 0), for floats that are not
/// NaN: comparisons without a float unit, in a few integer instructions in
/// place of a call to the software comparison.
inline int32_t order_key(float v) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  const int32_t magnitude = static_cast<int32_t>(bits & 0x7FFFFFFFu);
  return (bits >> 31) != 0u ? -magnitude : magnitude;
}

// Forced inlining where the compiler has it: split_left below is only small
// once its threshold is a constant folded into the caller. And the walk kept
// out of line: one copy of each of its two forms (bare_comparisons) however
// many kernels walk trees, whose instructions per split are its own and not
// those of a register allocation shared with the code around the call.
#if defined(__GNUC__)
#define EMLEARN_GEN_TREES_ALWAYS_INLINE inline __attribute__((always_inline))
#define EMLEARN_GEN_TREES_NOINLINE inline __attribute__((noinline))
#else
#define EMLEARN_GEN_TREES_ALWAYS_INLINE inline
#define EMLEARN_GEN_TREES_NOINLINE inline
#endif

/// split_left_by_bits (below) for a threshold t >= 0 (+0 or -0: key 0) of order key
/// `key` (its bits, sign cleared), from the value's bits u: every negative
/// float and every positive one with u <= key lies at or below t, and NaN
/// goes where the flag says. Where the value is known not to be NaN, the
/// two compares are one: (int32_t)u <= key (negative values are negative
/// integers).
EMLEARN_GEN_TREES_ALWAYS_INLINE bool split_left_nonnegative(uint32_t u, uint32_t key, bool missing_left) {
  return missing_left ? (u <= key || u > 0x7F800000u)
                      : (static_cast<int32_t>(u) <= static_cast<int32_t>(key) && u <= 0xFF800000u);
}

/// Whether `value` goes to the left child of a split on `threshold` (not
/// NaN): value <= threshold, and for a missing value (NaN) `missing_left`.
/// Trees that the generator writes out as if/else code decide each split
/// here (one call per split, every argument but `value` a constant,
/// folded), as does the table walk where floats are software. The float's
/// bits u decide, in a compare or two against constants, on every target
/// and under any compiler options about NaN: for t >= 0 (also -0, whose key
/// is 0) every negative float and every positive one with u <= bits(t) lie
/// at or below t; for t < 0 the floats at or below t are the negative ones
/// of u >= bits(t) (unsigned).
/// NaNs are u in (0x7F800000, 0x80000000) and above 0xFF800000: the bounds
/// 0x7F800000 and 0xFF800000 (the infinities) put them on the flag's side.
EMLEARN_GEN_TREES_ALWAYS_INLINE bool split_left_by_bits(float value, float threshold, bool missing_left) {
  uint32_t u;
  memcpy(&u, &value, sizeof u);
  uint32_t t;
  memcpy(&t, &threshold, sizeof t);
  const int32_t key = order_key(threshold);
  if (key >= 0) {
    return split_left_nonnegative(u, static_cast<uint32_t>(key), missing_left);
  }
  return missing_left ? (u >= t || (u > 0x7F800000u && u < 0x80000000u)) : (u >= t && u <= 0xFF800000u);
}

// Whether a float comparison is known to be false for NaN: with GCC, which
// honours NaN unless told otherwise (-ffinite-math-only, -ffast-math), and
// common.hpp refuses those. Clang's -fno-honor-nans defines no macro, so
// under clang (and other compilers) NaN is told by its bits first.
#if defined(__GNUC__) && !defined(__clang__) && !defined(__INTEL_COMPILER)
#define EMLEARN_GEN_TREES_NAN_COMPARES_FALSE 1
#else
#define EMLEARN_GEN_TREES_NAN_COMPARES_FALSE 0
#endif

/// split_left_by_bits, or where floats are hardware, the comparison and a
/// test of the bits for NaN (fewer instructions in the table walk, whose
/// thresholds are read at run time): where EMLEARN_GEN_TREES_NAN_COMPARES_FALSE
/// the comparison first, and the NaN test only on a node whose missing
/// values go left and a value that is not at or below the threshold; else
/// the NaN test first, since a compiler told that no value is NaN (clang's
/// -fno-honor-nans) may turn `value <= threshold` into
/// `!(value > threshold)`.
EMLEARN_GEN_TREES_ALWAYS_INLINE bool split_left(float value, float threshold, bool missing_left) {
#if EMLEARN_GEN_TREES_HARD_FLOAT && EMLEARN_GEN_TREES_NAN_COMPARES_FALSE
  // NaN told by the float unit, so that the value is loaded once, as a float.
  return value <= threshold || (missing_left && __builtin_isnan(value));
#elif EMLEARN_GEN_TREES_HARD_FLOAT
  if (is_missing(value)) {
    return missing_left;
  }
  return value <= threshold;
#else
  return split_left_by_bits(value, threshold, missing_left);
#endif
}

/// Where the categories of `feature` lie in cat_values: [*first, *last),
/// empty for a numeric feature.
template <typename Word, typename F>
inline void category_range(const F& f, uint32_t feature, uint32_t* first, uint32_t* last) {
  const uint32_t pos = feature * static_cast<uint32_t>(f.cat_start_bits);
  *first = static_cast<uint32_t>(read_bits<Word>(f.cat_starts, pos, f.cat_start_bits));
  *last = static_cast<uint32_t>(read_bits<Word>(f.cat_starts, pos + f.cat_start_bits, f.cat_start_bits));
}

/// Code of `value` among the sorted categories cat_values[first, last)
/// (binary search, exact equality), or `last - first` when it is none of
/// them. `value` is not NaN.
template <typename F>
inline uint32_t category_code(const F& f, uint32_t first, uint32_t last, float value) {
  uint32_t lo = first;
  uint32_t hi = last;
  while (lo < hi) {  // the first category >= value lies in [lo, hi]
    const uint32_t mid = lo + (hi - lo) / 2u;
    if (table_read(f.cat_values, mid) < value) {
      lo = mid + 1u;
    } else {
      hi = mid;
    }
  }
  return (lo < last && table_read(f.cat_values, lo) == value) ? lo - first : last - first;
}

/// Whether a present (not NaN) `value` of categorical `feature` goes left
/// at a node whose bitset starts at bit `bitset`; unknown values follow the
/// missing flag.
template <typename Word, typename F>
inline bool categorical_left(const F& f, uint32_t first, uint32_t last, uint32_t bitset, float value,
                             bool missing_left) {
  const uint32_t code = category_code(f, first, last, value);
  if (code == last - first) {
    return missing_left;
  }
  return read_bits<Word>(f.cat_bits, bitset + code, 1u) != 0u;
}

/// Bits of n (0 for 0), at compile time for a constant n.
constexpr uint32_t bit_length(uint32_t n) { return n == 0u ? 0u : 1u + bit_length(n >> 1); }

// The most features a row scan (bare_comparisons) is worth for a row that
// visits `splits` splits, each saving a NaN test of 3-4 instructions: a
// scanned feature costs about 1 where compilers vectorize the scan, 6-7 in
// scalar code.
#if defined(__SSE2__) || defined(__ARM_NEON) || defined(__aarch64__)
#define EMLEARN_GEN_TREES_SCAN_VECTORIZED 1
#define EMLEARN_GEN_TREES_SCAN_LIMIT(splits) ((splits) * 4u)
#else
#define EMLEARN_GEN_TREES_SCAN_VECTORIZED 0
#define EMLEARN_GEN_TREES_SCAN_LIMIT(splits) ((splits) / 2u)
#endif

/// Whether bare_comparisons is worth its scan of the row: where the splits a
/// row visits, estimated as n_trees times the bits of the mean number of
/// splits per tree (about a tree's depth if it were balanced), outweigh the
/// row's features. A compile-time constant for the generated headers.
template <typename F>
constexpr bool scan_pays(const F& f) {
  return EMLEARN_GEN_TREES_HARD_FLOAT && f.n_cat_values == 0u && f.n_trees != 0u &&
         f.n_features <= EMLEARN_GEN_TREES_SCAN_LIMIT(f.n_trees * bit_length(f.n_nodes / f.n_trees));
}

/// (bits & 0x7FFFFFFF) + 0x7FFFFF of the value at `v`: bit 31 is set for
/// NaN alone.
EMLEARN_GEN_TREES_ALWAYS_INLINE uint32_t nan_high(const float* v) {
  uint32_t bits;
  memcpy(&bits, v, sizeof bits);
  return (bits & 0x7FFFFFFFu) + 0x007FFFFFu;
}

/// Whether the walk decides each split of row `x` by the bare comparison
/// `value <= threshold` (numeric_walk<Word, true>): where scan_pays and no
/// value of `x` is NaN. One pass over the row, told by bits (is_missing),
/// replaces a NaN test at every split; the comparison of values that are
/// not NaN means the same under any compiler options about NaN.
template <typename F>
inline bool bare_comparisons(const F& f, const float* x) {
  if (!scan_pays(f)) {
    return false;
  }
  // Bit 31 of nan_high is set for NaN alone, and or-ed, not an early exit,
  // so that compilers vectorize the loop. Where they do not (Cortex-M4F),
  // four values to a step, so that the loop's compare and branch are paid
  // once per four (6 -> 4.5 instructions per value); unrolled where the
  // scan is vectorized, it measured more instructions on x86-64.
  uint32_t high = 0u;
  uint32_t i = 0;
  if (!EMLEARN_GEN_TREES_SCAN_VECTORIZED) {
    for (; i + 4u <= f.n_features; i += 4u) {
      high |= nan_high(x + i) | nan_high(x + i + 1) | nan_high(x + i + 2) | nan_high(x + i + 3);
    }
  }
  for (; i < f.n_features; ++i) {
    high |= nan_high(x + i);
  }
  return (high >> 31) == 0u;
}

// How numeric_walk follows whole-byte records, in place of their index
// (a multiply by the record's bytes per record read): on ARM with Thumb-2
// (Cortex-M3 and up) by the byte offset of records whose thresholds are
// indexed; on x86 by a pointer to the record, whose thresholds then follow
// it as they follow bit-packed records. Each measured fewer instructions per
// split where it is used: on x86-64 a 32-bit offset costs a copy per step
// (its zero-extension to an address), on Thumb-2 a pointer an add per tree
// (the offset is a register of the load's address), and on the Cortex-M0
// both measured more than the index.
#if defined(__arm__) && defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB >= 2
#define EMLEARN_GEN_TREES_WALK_BY_OFFSET 1
#else
#define EMLEARN_GEN_TREES_WALK_BY_OFFSET 0
#endif
#if defined(__x86_64__) || defined(__i386__)
#define EMLEARN_GEN_TREES_WALK_BY_POINTER 1
#else
#define EMLEARN_GEN_TREES_WALK_BY_POINTER 0
#endif

// Whether numeric_walk reads a threshold index that lies in the last one or
// two bytes of a whole-byte record by a load of those bytes and a shift (the
// record's top field: nothing above it to mask): on x86, which has no
// bit-field extract in one instruction, this is two instructions in place of
// a copy, a shift and a mask. ARM's ubfx extracts from the record at once.
#if defined(__x86_64__) || defined(__i386__)
#define EMLEARN_GEN_TREES_TAIL_LOADS 1
#else
#define EMLEARN_GEN_TREES_TAIL_LOADS 0
#endif

/// numeric_walk's decision of a split: split_left, or with `Bare` (no value
/// of the row is NaN) the comparison alone. With nonnegative_thresholds the
/// bits decide as integers (split_left_nonnegative), in place of a NaN test
/// and a float comparison, or of a software comparison.
template <bool Bare, typename F>
EMLEARN_GEN_TREES_ALWAYS_INLINE bool goes_left(const F& f, float value, float t, bool missing_left) {
  if (f.nonnegative_thresholds != 0u) {
    uint32_t u;
    memcpy(&u, &value, sizeof u);
    uint32_t key;
    memcpy(&key, &t, sizeof key);
    return Bare ? static_cast<int32_t>(u) <= static_cast<int32_t>(key) : split_left_nonnegative(u, key, missing_left);
  }
  return Bare ? value <= t : split_left(value, t, missing_left);
}

// Whether numeric_descent may step to a child before it tests whether the
// walk ends there (step_ahead): on ARM with Thumb-2, where each step then
// ends in one conditional branch back to the loop's head in place of a test,
// a branch out and a branch back, one instruction fewer per split visited.
// A step taken on the way out of the tree is wasted, so it pays on deep trees
// only (deep_trees). On x86-64 and the Cortex-M0 it measured no gain.
#if defined(__GNUC__) && defined(__arm__) && defined(__ARM_ARCH_ISA_THUMB) && __ARM_ARCH_ISA_THUMB >= 2
#define EMLEARN_GEN_TREES_STEP_AHEAD 1
#else
#define EMLEARN_GEN_TREES_STEP_AHEAD 0
#endif

/// Whether the trees of `f` have at least 32 split nodes each on average
/// (about depth 5 and deeper): where numeric_forest steps ahead. A
/// compile-time constant for the generated headers.
template <typename F>
constexpr bool deep_trees(const F& f) {
  return EMLEARN_GEN_TREES_STEP_AHEAD && f.n_trees != 0u && f.n_nodes / f.n_trees >= 32u;
}

/// Moves the walk `n` records on: its position `at` n strides, or with
/// `by_pointer` the cursor `r_at` n records of `stride` bytes; and where
/// `t_follows`, the threshold cursor n thresholds.
template <typename R, typename T>
EMLEARN_GEN_TREES_ALWAYS_INLINE void step(uint32_t& at, R& r_at, T& t_at, uint32_t stride, uint32_t n,
                                          bool by_pointer, bool t_follows) {
  if (by_pointer) {
    r_at = table_from(r_at, n * stride);
  } else {
    at += n * stride;
  }
  if (t_follows) {
    t_at = table_from(t_at, n);
  }
}

/// step() back by `n` records.
template <typename R, typename T>
EMLEARN_GEN_TREES_ALWAYS_INLINE void step_back(uint32_t& at, R& r_at, T& t_at, uint32_t stride, uint32_t n,
                                               bool by_pointer, bool t_follows) {
  if (by_pointer) {
    r_at = table_back(r_at, n * stride);
  } else {
    at -= n * stride;
  }
  if (t_follows) {
    t_at = table_back(t_at, n);
  }
}

/// Holds the step just taken where it is in the code: an empty asm
/// statement that reads and writes the walk's position (`at`, or with
/// `by_pointer` the cursor `r_at`; and the threshold cursor, where
/// `t_follows`), so that the compiler cannot sink the step into the branches
/// after it (where it would be taken only when the walk goes on, behind a
/// branch of its own). Nothing where EMLEARN_GEN_TREES_STEP_AHEAD is 0
/// (deep_trees never holds there).
template <typename R, typename T>
EMLEARN_GEN_TREES_ALWAYS_INLINE void step_ahead(uint32_t& at, R& r_at, T& t_at, bool by_pointer, bool t_follows) {
#if EMLEARN_GEN_TREES_STEP_AHEAD
  if (by_pointer && t_follows) {
    __asm__("" : "+r"(r_at), "+r"(t_at));
  } else if (by_pointer) {
    __asm__("" : "+r"(r_at));
  } else if (t_follows) {
    __asm__("" : "+r"(at), "+r"(t_at));
  } else {
    __asm__("" : "+r"(at));
  }
#endif
  (void)at;
  (void)r_at;
  (void)t_at;
  (void)by_pointer;
  (void)t_follows;
}

/// forest_leaf from split node `node` on, for models without categorical
/// features: routes as forest_leaf's general walk, with fewer instructions
/// per split. The record is read without its mask (each field is masked as
/// it is extracted), and the leaf flag of the side taken is tested before
/// `ref` is extracted. With `Bare` (bare_comparisons holds for `x`) a split
/// is `value <= threshold` alone; with `Ahead` (deep_trees) it takes a step
/// before it tests whether the walk ends there (step_ahead). In line:
/// numeric_walk and numeric_forest below are its two out-of-line forms.
template <typename Word, bool Bare, bool Ahead, typename F>
EMLEARN_GEN_TREES_ALWAYS_INLINE uint32_t numeric_descent(const F& f, uint32_t node, const float* x) {
  const Word feature_mask = static_cast<Word>((static_cast<Word>(1) << f.feature_bits) - 1u);
  const uint8_t ref_shift = static_cast<uint8_t>(f.feature_bits + flag_bits);
  const Word ref_mask = static_cast<Word>((static_cast<Word>(1) << f.ref_bits) - 1u);
  const uint8_t thr_shift = static_cast<uint8_t>(ref_shift + f.ref_bits);
  const Word left_leaf = static_cast<Word>(flag_left_leaf) << f.feature_bits;
  const Word right_leaf = static_cast<Word>(flag_right_leaf) << f.feature_bits;
  const Word missing_left = static_cast<Word>(flag_missing_left) << f.feature_bits;
  const Word thr_mask = static_cast<Word>((static_cast<Word>(1) << f.thr_bits) - 1u);
  // Where the walk is: in `at`, the record's bit position (bit-packed
  // records), its byte offset (whole-byte records whose thresholds are
  // indexed, where EMLEARN_GEN_TREES_WALK_BY_OFFSET) or else its index; or
  // the cursor `r_at` to its first byte (whole-byte records, where
  // EMLEARN_GEN_TREES_WALK_BY_POINTER). A step of n records moves `at` n
  // strides, or the cursor n records: no multiply per step but the index's.
  // Thresholds one per node, with the bit position or the cursor: `t_at`
  // follows the node in the thresholds (no index to scale per threshold).
  const bool by_bits = f.record_bytes == 0u;
  const bool by_pointer = EMLEARN_GEN_TREES_WALK_BY_POINTER && f.record_bytes != 0u;
  const bool by_offset = EMLEARN_GEN_TREES_WALK_BY_OFFSET && f.record_bytes != 0u && f.thr_bits != 0u;
  const uint32_t stride = by_bits ? record_bits(f) : (by_offset || by_pointer) ? f.record_bytes : 1u;
  uint32_t at = by_pointer ? 0u : node * stride;
  auto r_at = table_from(f.nodes, by_pointer ? node * stride : 0u);
  const bool t_follows = (by_bits || by_pointer) && f.thr_bits == 0u;
  auto t_at = table_from(f.thresholds, t_follows ? node : 0u);
  // The threshold index from the record's last bytes (EMLEARN_GEN_TREES_TAIL_LOADS).
  const uint8_t thr_byte = static_cast<uint8_t>(thr_shift / 8u);
  const uint8_t tail_bytes = static_cast<uint8_t>(f.record_bytes - thr_byte);
  const bool thr_tail = EMLEARN_GEN_TREES_TAIL_LOADS && by_pointer && f.thr_bits != 0u && tail_bytes <= 2u;
  for (;;) {
    const Word record = by_bits     ? read_bits_unmasked<Word>(f.nodes, at)
                        : by_pointer ? read_bytes_unmasked<Word>(r_at, 0u, f.record_bytes)
                                     : read_bytes_unmasked<Word>(f.nodes, by_offset ? at : at * f.record_bytes,
                                                                 f.record_bytes);
    const float value = x[static_cast<uint32_t>(record & feature_mask)];
    const uint32_t thr = thr_tail ? static_cast<uint32_t>(read_bytes<uint32_t>(r_at, thr_byte, tail_bytes) >>
                                                          (thr_shift - 8u * thr_byte))
                                  : static_cast<uint32_t>((record >> thr_shift) & thr_mask);
    const float t = f.thr_bits    ? table_read(f.thresholds, thr)
                    : t_follows ? table_read(t_at, 0u)
                                : table_read(f.thresholds, at);
    if (!Ahead) {
      if (goes_left<Bare>(f, value, t, (record & missing_left) != 0u)) {
        if (record & left_leaf) {
          return static_cast<uint32_t>((record >> ref_shift) & ref_mask);
        }
        step(at, r_at, t_at, stride, 1u, by_pointer, t_follows);
        continue;
      }
      // Right: the common case, both children split nodes, tested first
      // with one test of both flags.
      const uint32_t ref = static_cast<uint32_t>((record >> ref_shift) & ref_mask);
      if ((record & (left_leaf | right_leaf)) == 0u) {
        step(at, r_at, t_at, stride, ref, by_pointer, t_follows);
      } else if (record & right_leaf) {
        return ref + ((record & left_leaf) ? 1u : 0u);
      } else {
        step(at, r_at, t_at, stride, 1u, by_pointer, t_follows);  // the left child a leaf: the right one is next
      }
      continue;
    }
    // Ahead: the same routes, each step taken before the test of the flags.
    // A step toward a leaf (whose ref is a leaf row, not an offset) leaves
    // `at` and the cursor anywhere; the walk returns without reading there.
    if (goes_left<Bare>(f, value, t, (record & missing_left) != 0u)) {
      step(at, r_at, t_at, stride, 1u, by_pointer, t_follows);
      step_ahead(at, r_at, t_at, by_pointer, t_follows);
      if (record & left_leaf) {
        return static_cast<uint32_t>((record >> ref_shift) & ref_mask);
      }
      continue;
    }
    const uint32_t ref = static_cast<uint32_t>((record >> ref_shift) & ref_mask);
    step(at, r_at, t_at, stride, ref, by_pointer, t_follows);
    step_ahead(at, r_at, t_at, by_pointer, t_follows);
    if ((record & (left_leaf | right_leaf)) == 0u) {
      continue;
    }
    if (record & right_leaf) {
      return ref + ((record & left_leaf) ? 1u : 0u);
    }
    step_back(at, r_at, t_at, stride, ref - 1u, by_pointer, t_follows);  // the left child a leaf: the right one is next
  }
}

/// numeric_descent for one tree (forest_leaf).
template <typename Word, bool Bare, typename F>
EMLEARN_GEN_TREES_NOINLINE uint32_t numeric_walk(const F& f, uint32_t node, const float* x) {
  return numeric_descent<Word, Bare, false>(f, node, x);
}

/// for_each_leaf for models without categorical features: the loop over
/// the trees and the walk in one function, so that a tree costs no call and
/// the walk's registers are set up once per row.
template <typename Word, bool Bare, bool Ahead, typename F, typename Sink>
EMLEARN_GEN_TREES_NOINLINE void numeric_forest(const F& f, const float* x, Sink& sink) {
  for (uint32_t t = 0; t < f.n_trees; ++t) {
    const uint32_t node = static_cast<uint32_t>(read_field<Word>(f.roots, t, f.root_bits));
    sink(t, node >= f.n_nodes ? node - f.n_nodes : numeric_descent<Word, Bare, Ahead>(f, node, x));
  }
}
}  // namespace detail

/// Leaf row reached by `x` in tree `tree`. `x` holds n_features values;
/// NaN marks a missing value and is routed as scikit-learn routes it.
/// `bare`: detail::bare_comparisons(f, x), which callers that walk every
/// tree of a row test once; the leaf is the same either way.
/// Stack: a few words; no recursion.
template <typename Word, typename F>
inline uint32_t forest_leaf(const F& f, uint32_t tree, const float* x, bool bare = false) {
  const Word feature_mask = static_cast<Word>((static_cast<Word>(1) << f.feature_bits) - 1u);
  const Word ref_mask = static_cast<Word>((static_cast<Word>(1) << f.ref_bits) - 1u);
  const uint8_t ref_shift = static_cast<uint8_t>(f.feature_bits + detail::flag_bits);
  const uint8_t thr_shift = static_cast<uint8_t>(ref_shift + f.ref_bits);

  uint32_t node = static_cast<uint32_t>(read_field<Word>(f.roots, tree, f.root_bits));
  if (node >= f.n_nodes) {
    return node - f.n_nodes;
  }
  if (f.n_cat_values == 0u) {
    return bare ? detail::numeric_walk<Word, true>(f, node, x) : detail::numeric_walk<Word, false>(f, node, x);
  }
  for (;;) {
    const Word record = detail::node_record<Word>(f, node);
    const uint32_t feature = static_cast<uint32_t>(record & feature_mask);
    const uint32_t flags = static_cast<uint32_t>(record >> f.feature_bits) & 7u;
    const uint32_t ref = static_cast<uint32_t>((record >> ref_shift) & ref_mask);
    const uint32_t thr = f.thr_bits ? static_cast<uint32_t>(record >> thr_shift) : node;

    const float value = x[feature];
    const bool missing_left = (flags & detail::flag_missing_left) != 0;
    bool left = detail::split_left(value, table_read(f.thresholds, thr), missing_left);
    if (f.n_cat_values != 0u && !is_missing(value)) {
      uint32_t first, last;
      detail::category_range<Word>(f, feature, &first, &last);
      if (first != last) {
        const uint32_t bitset = static_cast<uint32_t>(table_read(f.thresholds, thr));
        left = detail::categorical_left<Word>(f, first, last, bitset, value, missing_left);
      }
    }
    const uint32_t leaf_flag = left ? detail::flag_left_leaf : detail::flag_right_leaf;
    if (flags & leaf_flag) {
      // Going right from a left leaf means both children are leaves: ref + 1.
      return ref + ((!left && (flags & detail::flag_left_leaf)) ? 1u : 0u);
    }
    node += (left || (flags & detail::flag_left_leaf)) ? 1u : ref;
  }
}

/// Calls sink(t, forest_leaf(f, t, x)) for every tree t, in tree order:
/// `sink` is any callable taking (uint32_t tree, uint32_t leaf). The row is
/// scanned for NaN once (bare_comparisons). Stack: a few words and the sink's.
template <typename Word, typename F, typename Sink>
inline void for_each_leaf(const F& f, const float* x, Sink& sink) {
  const bool bare = detail::bare_comparisons(f, x);
  // A single tree has no call per tree to save: forest_leaf's walk, whose
  // registers are its own, measured fewer instructions there.
  if (f.n_cat_values == 0u && f.n_trees != 1u) {
    const bool deep = detail::deep_trees(f);
    if (bare && deep) {
      detail::numeric_forest<Word, true, true>(f, x, sink);
    } else if (bare) {
      detail::numeric_forest<Word, true, false>(f, x, sink);
    } else if (deep) {
      detail::numeric_forest<Word, false, true>(f, x, sink);
    } else {
      detail::numeric_forest<Word, false, false>(f, x, sink);
    }
    return;
  }
  for (uint32_t t = 0; t < f.n_trees; ++t) {
    sink(t, forest_leaf<Word>(f, t, x, bare));
  }
}

/// Adds leaf row `leaf` to the values at `out` (leaf_width of them; one for
/// sparse rows).
/// Sums that start at +0 (every caller's; see detail::add_leaf_value).
template <typename Word, typename F>
inline void forest_add_leaf(const F& f, uint32_t leaf, typename F::real_type* out) {
  typedef typename F::real_type Real;
  if (f.leaf_class_bits != 0u) {
    // A vote: 1 to its class, +0 (nothing) to the others.
    out[detail::leaf_class<Word>(f, leaf)] += real_from_count<Real>(1u);
    return;
  }
  if (f.entry_class_bits != 0u) {
    // Nonzero values only, each added where additions are calls too.
    const Word value_mask = static_cast<Word>((static_cast<Word>(1) << f.value_bits) - 1u);
    const Word class_mask = static_cast<Word>((static_cast<Word>(1) << f.entry_class_bits) - 1u);
    const uint8_t last_shift = static_cast<uint8_t>(f.value_bits + f.entry_class_bits);
    for (uint32_t at = detail::row_start<Word>(f, leaf);; ++at) {
      const Word entry = read_field<Word>(f.leaf_entries, at, detail::entry_bits(f));
      detail::accumulate(out[static_cast<uint32_t>((entry >> f.value_bits) & class_mask)],
                         table_read(f.leaves, static_cast<uint32_t>(entry & value_mask)));
      if ((entry >> last_shift) != 0u) {
        return;
      }
    }
  }
  const uint16_t width = detail::row_width(f);
  const uint32_t first = leaf * width;
  if (width == 1u) {
    // One value (regressors, outlier scores, sparse rows): rarely zero, so
    // not worth a test.
    uint32_t index = first;
    if (f.value_bits != 0) {
      index = static_cast<uint32_t>(read_bits<Word>(f.leaf_codes, first * f.value_bits, f.value_bits));
    }
    detail::accumulate(out[0], table_read(f.leaves, index));
    return;
  }
  // Rows of class fractions: mostly zeros, skipped where additions are calls.
  if (f.value_bits == 0) {
    for (uint16_t j = 0; j < width; ++j) {
      detail::add_leaf_value(out[j], table_read(f.leaves, first + j));
    }
    return;
  }
  uint32_t pos = first * f.value_bits;
  for (uint16_t j = 0; j < width; ++j, pos += f.value_bits) {
    const uint32_t code = static_cast<uint32_t>(read_bits<Word>(f.leaf_codes, pos, f.value_bits));
    detail::add_leaf_value(out[j], table_read(f.leaves, code));
  }
}

/// Class votes (leaf_class_bits > 0): how many trees' leaves `x` reaches
/// vote for each class, leaf_width counts to `votes`. These are exactly the
/// sums forest_sum computes, as integers.
template <typename Word, typename F>
inline void forest_votes(const F& f, const float* x, uint32_t* votes) {
  for (uint16_t j = 0; j < f.leaf_width; ++j) {
    votes[j] = 0u;
  }
  auto vote = [&f, votes](uint32_t, uint32_t leaf) { ++votes[detail::leaf_class<Word>(f, leaf)]; };
  for_each_leaf<Word>(f, x, vote);
}

/// The class probabilities of vote counts, as forest_mean and then to_float
/// give them: each count (the exact sum of its ones) divided by the number
/// of trees in real_type, then rounded to float.
template <typename F>
inline void forest_vote_shares(const F& f, const uint32_t* votes, float* out) {
  typedef typename F::real_type Real;
  for (uint16_t j = 0; j < f.leaf_width; ++j) {
    out[j] = to_float(divide(real_from_count<Real>(votes[j]), f.n_trees));
  }
}

/// Sum of the leaf rows that `x` reaches, one per tree, added in tree order
/// from zero (as scikit-learn adds them). Writes leaf_width values to `out`.
template <typename Word, typename F>
inline void forest_sum(const F& f, const float* x, typename F::real_type* out) {
  typedef typename F::real_type Real;
  for (uint16_t j = 0; j < f.leaf_width; ++j) {
    out[j] = zero<Real>();
  }
  auto add = [&f, out](uint32_t t, uint32_t leaf) {
    forest_add_leaf<Word>(f, leaf, out + detail::tree_sum<Word>(f, t));
  };
  for_each_leaf<Word>(f, x, add);
}

/// Mean of the leaf rows that `x` reaches, one per tree, as scikit-learn
/// computes it: rows summed in tree order from zero, then divided by the
/// number of trees. Writes leaf_width values to `out`.
template <typename Word, typename F>
inline void forest_mean(const F& f, const float* x, typename F::real_type* out) {
  forest_sum<Word>(f, x, out);
  for (uint16_t j = 0; j < f.leaf_width; ++j) {
    out[j] = divide(out[j], f.n_trees);
  }
}

namespace detail {
/// A value's bits and the width of its fraction field, for argmax_of_mean.
struct real_bits {
  uint64_t bits;
  uint8_t fraction_bits;
};
inline real_bits bits_of(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  real_bits r = {b, 23u};
  return r;
}
inline real_bits bits_of(soft_double x) {
  real_bits r = {x.bits, 52u};
  return r;
}
#if !defined(__SIZEOF_DOUBLE__) || __SIZEOF_DOUBLE__ >= 8
inline real_bits bits_of(double x) {
  real_bits r = {f64::to_bits(x), 52u};
  return r;
}
#else
inline real_bits bits_of(double x) { return bits_of(static_cast<float>(x)); }  // double is binary32 here (AVR)
#endif

/// Whether a value of these bits is positive with a biased exponent of at
/// least 64 (float: >= 2^-63; double: >= 2^-959): its quotient by any
/// n < 2^32 is then a normal number.
inline bool large_positive(real_bits r) {
  const uint8_t sign_shift = r.fraction_bits == 23u ? 31u : 63u;
  return (r.bits >> sign_shift) == 0u && (r.bits >> r.fraction_bits) >= 64u;
}

/// A signed integer that orders as the binary64 value of `bits` does, for
/// values that are not NaN: sign and magnitude to two's complement, so -0
/// and +0 are both 0 (as order_key for float).
inline int64_t order_key64(uint64_t bits) {
  const int64_t magnitude = static_cast<int64_t>(bits & ~f64::sign_bit);
  return (bits >> 63) != 0u ? -magnitude : magnitude;
}

/// Order keys of sums that are not NaN: integers that order as the values
/// do (-0 and +0 both 0).
inline int64_t sum_key(float x) { return order_key(x); }
inline int64_t sum_key(soft_double x) { return order_key64(x.bits); }
#if !defined(__SIZEOF_DOUBLE__) || __SIZEOF_DOUBLE__ >= 8
inline int64_t sum_key(double x) { return order_key64(f64::to_bits(x)); }
#else
inline int64_t sum_key(double x) { return order_key(static_cast<float>(x)); }  // double is binary32 here (AVR)
#endif

/// Index of the first largest of `n` sums that are not NaN, comparing
/// their order keys: the index argmax gives, in a few integer instructions
/// per sum where comparing the values would call the software comparison.
template <typename Real>
inline int32_t first_largest_by_key(const Real* sums, int32_t n) {
  int32_t best = 0;
  int64_t best_key = sum_key(sums[0]);
  for (int32_t i = 1; i < n; ++i) {
    const int64_t key = sum_key(sums[i]);
    if (key > best_key) {
      best_key = key;
      best = i;
    }
  }
  return best;
}

/// argmax of sums that are not NaN (a forest's sums of finite leaf values,
/// which pack_trees keeps from overflowing): the hardware comparison where
/// the type has one, else first_largest_by_key.
inline int32_t first_largest(const float* sums, int32_t n) {
  return EMLEARN_GEN_TREES_HARD_FLOAT ? argmax(sums, n) : first_largest_by_key(sums, n);
}
inline int32_t first_largest(const soft_double* sums, int32_t n) { return first_largest_by_key(sums, n); }
inline int32_t first_largest(const double* sums, int32_t n) {
  return EMLEARN_GEN_TREES_HARD_DOUBLE ? argmax(sums, n) : first_largest_by_key(sums, n);
}

/// Whether sums of this type divide in hardware (a few instructions, not a call).
inline bool hard_division(const float*) { return EMLEARN_GEN_TREES_HARD_FLOAT != 0; }
inline bool hard_division(const soft_double*) { return false; }
inline bool hard_division(const double*) { return EMLEARN_GEN_TREES_HARD_DOUBLE != 0; }
}  // namespace detail

/// The class a forest classifier's predict() gives: argmax of the means
/// sums[j] / n_trees (first largest), computed from the sums without
/// dividing them. Division by n is monotone, so the largest sum has the
/// largest mean; only a smaller sum before it whose mean rounds to the same
/// value can win instead (a tie of means, which goes to the first). For a
/// large positive sum b, a sum a whose mean ties with b's lies within 2^-51
/// b of it, a few units in the last place (a quotient's relative rounding
/// error is that of its operands): such near sums alone are divided to
/// check, and where division is software b only when there is one (a
/// software division costs hundreds of instructions). Sums that are not all
/// large and positive take the division. The sums are not NaN (forest_sum
/// of finite leaf values).
template <typename F>
inline int32_t argmax_of_mean(const F& f, typename F::real_type* sums) {
  const int32_t n = static_cast<int32_t>(f.leaf_width);
  const int32_t best = detail::first_largest(sums, n);
  const detail::real_bits top = detail::bits_of(sums[best]);
  if (f.n_trees == 1u) {
    return best;
  }
  if (!detail::large_positive(top)) {
    for (int32_t j = 0; j < n; ++j) {
      sums[j] = divide(sums[j], f.n_trees);
    }
    return detail::first_largest(sums, n);
  }
  // In hardware the largest mean is computed up front (so the cost depends
  // on the winning class only), in software only when a near sum needs it.
  bool have_mean = detail::hard_division(sums);
  uint64_t mean_bits = have_mean ? detail::bits_of(divide(sums[best], f.n_trees)).bits : 0u;
  for (int32_t j = 0; j < best; ++j) {
    // Positive values order as their bits do; 16 units is a wide margin.
    const detail::real_bits near = detail::bits_of(sums[j]);
    if (near.bits <= top.bits && top.bits - near.bits <= 16u) {
      if (!have_mean) {
        mean_bits = detail::bits_of(divide(sums[best], f.n_trees)).bits;
        have_mean = true;
      }
      if (detail::bits_of(divide(sums[j], f.n_trees)).bits == mean_bits) {
        return j;
      }
    }
  }
  return best;
}

namespace detail {
/// Whether forest_label first decides on approximate sums: where double is
/// software, for float64 entry rows of several trees.
template <typename F>
constexpr bool approximate_first(const F& f) {
  return !EMLEARN_GEN_TREES_HARD_DOUBLE && sizeof(typename F::real_type) == 8u && f.entry_class_bits != 0u &&
         f.n_trees > 1u && f.n_fixed != 0u;
}

/// Most trees a model may have for its approximate sums: the margin of
/// approximation<true>::label holds below it.
constexpr uint32_t max_approximate_trees = static_cast<uint32_t>(1) << 17;

/// The summand of a binary64 value v in [0, 1] (of bits `bits`) in the
/// approximate sums: floor(v 2^14), from its significand and exponent. The
/// generator stores these in leaf_fixed (pack.approximate_summands);
/// forest_validate checks each against this.
inline uint32_t approximate_summand(uint64_t bits) {
  const uint32_t exponent = static_cast<uint32_t>(bits >> 52);  // sign clear: v >= 0
  const uint64_t significand = (bits & 0xFFFFFFFFFFFFFull) | (exponent != 0u ? static_cast<uint64_t>(1) << 52 : 0u);
  // v = significand 2^(max(exponent, 1) - 1075), so v 2^14 = significand >> shift.
  const uint32_t shift = 1075u - 14u - (exponent != 0u ? exponent : 1u);
  return shift >= 64u ? 0u : static_cast<uint32_t>(significand >> shift);
}

/// Adds entry row `leaf` to the approximate sums: each value's summand
/// (leaf_fixed, approximate_summand) to its class's sum.
template <typename Word, typename F>
inline void add_approximate_row(const F& f, uint32_t leaf, uint32_t* approx) {
  const Word value_mask = static_cast<Word>((static_cast<Word>(1) << f.value_bits) - 1u);
  const Word class_mask = static_cast<Word>((static_cast<Word>(1) << f.entry_class_bits) - 1u);
  const uint8_t last_shift = static_cast<uint8_t>(f.value_bits + f.entry_class_bits);
  for (uint32_t at = row_start<Word>(f, leaf);; ++at) {
    const Word entry = read_field<Word>(f.leaf_entries, at, entry_bits(f));
    approx[static_cast<uint32_t>((entry >> f.value_bits) & class_mask)] +=
        static_cast<uint32_t>(table_read(f.leaf_fixed, static_cast<uint32_t>(entry & value_mask)));
    if ((entry >> last_shift) != 0u) {
      return;
    }
  }
}

/// predict() of `x` on approximate sums (approximate_first): true, with the
/// label in *label, when one approximate sum leads all others by more than
/// their error can make up, so that its float64 mean is the strictly
/// largest. With n = n_trees, u = 2^-14 and each value v added as
/// floor(v / u) (approximate_summand), a class's approximate sum A and the
/// exact sum S of its values (at most one per tree) satisfy
/// S / u - n < A <= S / u; its float64 sum F, n additions of non-negative
/// values below n, lies within n^2 2^-53 of S. So where A_b - A_c > n + 2
/// (the margin below, 2n + 3, more): S_b - S_c > 2u, F_b - F_c >
/// 2u - n^2 2^-52 > n 2^-52 for n < max_approximate_trees, and the means
/// F / n, each rounded by at most 2^-53 of itself (below 1), differ once
/// rounded: b's is strictly the largest. A <= n 2^14 fits in 32 bits.
/// `approx` is scratch of leaf_width counts.
template <bool binary64>
struct approximation {
  template <typename Word, typename F>
  static bool label(const F&, const float*, uint32_t*, int32_t*) {
    return false;  // float sums: approximate_first is false
  }
};
template <>
struct approximation<true> {
  template <typename Word, typename F>
  static bool label(const F& f, const float* x, uint32_t* approx, int32_t* label);
};
template <typename Word, typename F>
inline bool approximation<true>::label(const F& f, const float* x, uint32_t* approx, int32_t* label) {
  if (f.n_fixed == 0u) {
    return false;  // values outside [0, 1]: no approximate summands
  }
  const uint32_t n = f.n_trees;
  for (uint16_t j = 0; j < f.leaf_width; ++j) {
    approx[j] = 0u;
  }
  auto add = [&f, approx](uint32_t, uint32_t leaf) { add_approximate_row<Word>(f, leaf, approx); };
  for_each_leaf<Word>(f, x, add);
  uint32_t best = 0;
  for (uint16_t j = 1; j < f.leaf_width; ++j) {
    best = approx[j] > approx[best] ? j : best;
  }
  const uint32_t margin = 2u * n + 3u;
  for (uint16_t j = 0; j < f.leaf_width; ++j) {
    if (j != best && approx[best] - approx[j] <= margin) {
      return false;
    }
  }
  *label = static_cast<int32_t>(best);
  return true;
}
}  // namespace detail

/// The class a forest classifier's predict() gives for `x`: argmax_of_mean
/// of forest_sum. Where double is software (approximate_first), decided
/// first on integer approximations of the sums, exact in the label they
/// give when one leads clearly, at a few integer instructions per value
/// instead of a software float64 addition; otherwise (a near tie, a value
/// outside [0, 1]) the trees are walked again and summed in float64.
/// `sums` is scratch of leaf_width real_type values, `approx` of leaf_width
/// counts.
template <typename Word, typename F>
inline int32_t forest_label(const F& f, const float* x, typename F::real_type* sums, uint32_t* approx) {
  if (detail::approximate_first(f)) {
    int32_t label = 0;
    typedef detail::approximation<sizeof(typename F::real_type) == 8u> approximation;
    if (approximation::template label<Word>(f, x, approx, &label)) {
      return label;
    }
  }
  forest_sum<Word>(f, x, sums);
  return argmax_of_mean(f, sums);
}

/// AdaBoostRegressor (AdaBoost.R2; leaf_width 1): the weighted median of
/// the trees' values for `x`, as scikit-learn computes it: values sorted
/// (ties in tree order), weights summed in that order in real64, the first
/// value whose running sum reaches half the total. `values` and `order` are
/// caller scratch of n_trees entries each. Stack: those arrays and a few words.
template <typename Word, typename F>
inline typename F::real_type adaboost_median(const F& f, const float* x, typename F::real_type* values,
                                              uint32_t* order) {
  typedef typename F::real_type Real;
  const uint32_t n = f.n_trees;
  const bool bare = detail::bare_comparisons(f, x);
  for (uint32_t t = 0; t < n; ++t) {
    values[t] = zero<Real>();
    forest_add_leaf<Word>(f, forest_leaf<Word>(f, t, x, bare), values + t);
    // Insertion sort, stable: a tree goes after every tree of equal value.
    uint32_t i = t;
    while (i > 0u && values[order[i - 1u]] > values[t]) {
      order[i] = order[i - 1u];
      --i;
    }
    order[i] = t;
  }
  Real total = zero<Real>();
  for (uint32_t i = 0; i < n; ++i) {
    total += table_read(f.real_constants, order[i]);
  }
  const Real half = divide(total, static_cast<uint32_t>(2u));
  Real running = zero<Real>();
  for (uint32_t i = 0; i < n; ++i) {
    running += table_read(f.real_constants, order[i]);
    if (!(half > running)) {
      return values[order[i]];
    }
  }
  return values[order[n - 1u]];
}

/// Isolation forests (scikit-learn's IsolationForest; leaf_width 1): the
/// label for D, the sum of a row's leaves' path lengths (forest_sum), summed
/// as scikit-learn sums it: -1 (an outlier) where D is below
/// real_constants[0], the smallest sum whose decision_function scikit-learn
/// finds >= 0; else +1.
template <typename F>
inline int32_t isolation_predict_of_sum(const F& f, typename F::real_type sum) {
  return table_read(f.real_constants, 0u) > sum ? -1 : 1;
}

/// scikit-learn's score_samples for the sum D, -2^(-D / denominator), as
/// -exp_f(-(D * scale)) in float with scale = ln 2 / denominator
/// (float_constants[0]): within the family's stated bound of scikit-learn's.
template <typename F>
inline float isolation_score_of_sum(const F& f, typename F::real_type sum) {
  return -exp_f(-rounded(to_float(sum) * table_read(f.float_constants, 0u)));
}

/// scikit-learn's decision_function for the sum D: score_samples - offset_
/// (float_constants[1]).
template <typename F>
inline float isolation_decision_of_sum(const F& f, typename F::real_type sum) {
  return isolation_score_of_sum(f, sum) - table_read(f.float_constants, 1u);
}

/// isolation_predict_of_sum for the row `x`. Stack: one sum.
template <typename Word, typename F>
inline int32_t isolation_predict(const F& f, const float* x) {
  typename F::real_type sum;
  forest_sum<Word>(f, x, &sum);
  return isolation_predict_of_sum(f, sum);
}

/// isolation_score_of_sum for the row `x`.
template <typename Word, typename F>
inline float isolation_score(const F& f, const float* x) {
  typename F::real_type sum;
  forest_sum<Word>(f, x, &sum);
  return isolation_score_of_sum(f, sum);
}

/// AdaBoost (SAMME) decision as scikit-learn computes it, from the sums of
/// forest_sum (each class's weighted votes: the leaf rows hold the tree's
/// weight for its class, -weight / (K - 1) for the others): divided by the
/// weights' sum; for two classes, the second minus the first. Rewrites the
/// leaf_width values of `sums` and returns the number of decision values
/// (1 for two classes, else K).
template <typename F>
inline uint16_t samme_decision_of_sums(const F& f, typename F::real_type* sums) {
  const typename F::real_type total = table_read(f.real_constants, 0u);
  for (uint16_t j = 0; j < f.leaf_width; ++j) {
    sums[j] = divide(sums[j], total);
  }
  if (f.leaf_width == 2u) {
    sums[0] = subtract(sums[1], sums[0]);
    return 1u;
  }
  return f.leaf_width;
}

/// samme_decision_of_sums for the row `x`; `sums` holds leaf_width values.
template <typename Word, typename F>
inline uint16_t samme_decision(const F& f, const float* x, typename F::real_type* sums) {
  forest_sum<Word>(f, x, sums);
  return samme_decision_of_sums(f, sums);
}

/// Boosted models' label from the sums of forest_sum (which it may
/// rewrite): class 1 where the one raw score is >= 0 (as scikit-learn), else
/// the first largest raw score.
template <typename F>
inline int32_t boost_label_of_sums(const F& f, typename F::real_type* sums) {
  typedef typename F::real_type Real;
  if (f.boost == boost_link::samme) {
    // scikit-learn: class 1 where the two-class decision is > 0.
    if (samme_decision_of_sums(f, sums) == 1u) {
      return sums[0] > zero<Real>() ? 1 : 0;
    }
    return argmax(sums, static_cast<int32_t>(f.leaf_width));
  }
  if (f.boost == boost_link::logistic_positive) {
    return sums[0] > zero<Real>() ? 1 : 0;  // scikit-learn's HistGradientBoosting: raw > 0
  }
  if (f.leaf_width == 1u) {
    return zero<Real>() > sums[0] ? 0 : 1;
  }
  return argmax(sums, static_cast<int32_t>(f.leaf_width));
}

/// boost_label_of_sums for the row `x`. `sums` is caller scratch of
/// leaf_width values.
template <typename Word, typename F>
inline int32_t boost_label(const F& f, const float* x, typename F::real_type* sums) {
  forest_sum<Word>(f, x, sums);
  return boost_label_of_sums(f, sums);
}

/// Boosted models' raw scores (decision_function; regressors' predict) from
/// the sums of forest_sum (which it may rewrite), rounded to float:
/// leaf_width values to `out`. A regressor with the exp link writes exp_f
/// of its raw score rounded to float (scikit-learn: exp of the float64 raw
/// score).
template <typename F>
inline void boost_raw_of_sums(const F& f, typename F::real_type* sums, float* out) {
  uint16_t n = f.leaf_width;
  if (f.boost == boost_link::samme) {
    n = samme_decision_of_sums(f, sums);
  }
  for (uint16_t j = 0; j < n; ++j) {
    out[j] = to_float(sums[j]);
  }
  if (f.boost == boost_link::exp) {
    out[0] = exp_f(out[0]);
  }
}

/// boost_raw_of_sums for the row `x`; `sums` is caller scratch.
template <typename Word, typename F>
inline void boost_raw(const F& f, const float* x, typename F::real_type* sums, float* out) {
  forest_sum<Word>(f, x, sums);
  boost_raw_of_sums(f, sums, out);
}

/// Boosted classifiers' probabilities from the sums of forest_sum (which it
/// may rewrite), through the raw scores rounded to float: 2 values for
/// binary models, leaf_width otherwise.
template <typename F>
inline void boost_proba_of_sums(const F& f, typename F::real_type* sums, float* out) {
  if (f.boost == boost_link::samme) {
    // scikit-learn: softmax of decision / (K - 1); for two classes of
    // {-decision, decision} / 2.
    if (samme_decision_of_sums(f, sums) == 1u) {
      out[1] = to_float(sums[0]) / 2.0f;
      out[0] = -out[1];
      softmax_f(out, 2u);
      return;
    }
    const float classes_less_one = static_cast<float>(f.leaf_width - 1u);
    for (uint16_t j = 0; j < f.leaf_width; ++j) {
      out[j] = to_float(sums[j]) / classes_less_one;
    }
    softmax_f(out, f.leaf_width);
    return;
  }
  boost_raw_of_sums(f, sums, out);
  if (f.boost == boost_link::softmax) {
    softmax_f(out, f.leaf_width);
    return;
  }
  const float raw = f.boost == boost_link::logistic2x ? 2.0f * out[0] : out[0];
  const float p = sigmoid_f(raw);
  out[0] = 1.0f - p;
  out[1] = p;
}

/// boost_proba_of_sums for the row `x`; `sums` is scratch.
template <typename Word, typename F>
inline void boost_proba(const F& f, const float* x, typename F::real_type* sums, float* out) {
  forest_sum<Word>(f, x, sums);
  boost_proba_of_sums(f, sums, out);
}

/// isolation_decision_of_sum for the row `x`.
template <typename Word, typename F>
inline float isolation_decision(const F& f, const float* x) {
  return isolation_score<Word>(f, x) - table_read(f.float_constants, 1u);
}

/// forest_mean for `n` rows of `X` (row-major, n_features values each),
/// writing n * leaf_width values to `out`. Walks the trees in the outer loop
/// over blocks of rows so each tree's records stay in cache; every row still
/// sums its leaves in tree order, so results equal forest_mean bit for bit.
template <typename Word, typename F>
inline void forest_mean_batch(const F& f, const float* X, uint32_t n, typename F::real_type* out) {
  typedef typename F::real_type Real;
  const uint32_t block = 64u;
  const uint32_t width = f.leaf_width;
  for (uint32_t start = 0; start < n; start += block) {
    const uint32_t stop = (n - start < block) ? n : start + block;
    for (size_t i = static_cast<size_t>(start) * width; i < static_cast<size_t>(stop) * width; ++i) {
      out[i] = zero<Real>();
    }
    for (uint32_t t = 0; t < f.n_trees; ++t) {
      for (uint32_t i = start; i < stop; ++i) {
        const uint32_t leaf = forest_leaf<Word>(f, t, X + static_cast<size_t>(i) * f.n_features);
        forest_add_leaf<Word>(f, leaf, out + static_cast<size_t>(i) * width + detail::tree_sum<Word>(f, t));
      }
    }
    for (size_t i = static_cast<size_t>(start) * width; i < static_cast<size_t>(stop) * width; ++i) {
      out[i] = divide(out[i], f.n_trees);
    }
  }
}

/// Checks that every record of `f` stays inside its tables, so that walking
/// the model on any input terminates and reads only table memory. Child nodes
/// always lie after their parent, which bounds every walk by n_nodes steps.
namespace detail {
/// Categorical tables: feature starts non-decreasing up to n_cat_values,
/// each feature's categories sorted and distinct (so binary search finds
/// them). `starts_bytes` and `bits_bytes` are the bit strings' sizes.
template <typename Word, typename F>
inline status categories_validate(const F& f, size_t starts_bytes, size_t bits_bytes) {
  if (f.cat_values == NULL || f.cat_starts == NULL || f.cat_bits == NULL) {
    return status::bad_argument;
  }
  (void)bits_bytes;  // each node's bitset is checked against it
  if (f.cat_start_bits == 0u || f.cat_start_bits + 7u > 8u * sizeof(Word) ||
      starts_bytes < packed_bytes<Word>(static_cast<uint64_t>(f.n_features) + 1u, f.cat_start_bits)) {
    return status::size_mismatch;
  }
  uint32_t first = 0, last = 0;
  category_range<Word>(f, 0u, &first, &last);
  if (first != 0u) {
    return status::bad_table;
  }
  for (uint32_t feature = 0; feature < f.n_features; ++feature) {
    category_range<Word>(f, feature, &first, &last);
    if (last < first || last > f.n_cat_values) {
      return status::bad_table;
    }
    for (uint32_t i = first; i < last; ++i) {
      const float value = table_read(f.cat_values, i);
      if (is_missing(value) || (i > first && !(table_read(f.cat_values, i - 1u) < value))) {
        return status::bad_table;
      }
    }
  }
  return last == f.n_cat_values ? status::ok : status::bad_table;
}

/// Class votes: no leaf values, codes or sparse rows beside them, a class
/// below leaf_width for every leaf row, and at most 2^24 trees (so that
/// float sums of their votes count exactly, as forest_vote_shares assumes).
/// `classes_bytes` is the size of leaf_classes.
template <typename Word, typename F>
inline status votes_validate(const F& f, size_t classes_bytes) {
  if (f.leaf_classes == NULL) {
    return status::bad_argument;
  }
  if (f.value_bits != 0u || f.tree_class_bits != 0u || f.n_values != 0u || f.n_trees > (static_cast<uint32_t>(1) << 24) ||
      f.leaf_class_bits > 16u || f.leaf_class_bits + 7u > 8u * sizeof(Word)) {
    return status::bad_table;
  }
  if (classes_bytes < packed_bytes<Word>(f.n_leaves, f.leaf_class_bits)) {
    return status::size_mismatch;
  }
  for (uint32_t leaf = 0; leaf < f.n_leaves; ++leaf) {
    if (leaf_class<Word>(f, leaf) >= f.leaf_width) {
      return status::bad_table;
    }
  }
  return status::ok;
}

/// Entry rows: no codes, sparse rows or votes beside them, and rows laid
/// out one after the other from entry 0, each ending with the entry whose
/// last flag is set, inside `entries_bytes`, every entry's class below
/// leaf_width and value index below n_values. Checked in one pass over the
/// entries. `starts_bytes` is the size of leaf_starts.
/// leaf_fixed, where present: n_values summands, each the one
/// approximate_summand gives for its value (binary64 values in [0, 1], a
/// model of several trees), so that forest_label's approximate sums are what
/// its error bound assumes.
template <typename F>
inline status fixed_validate(const F& f) {
  if (f.n_fixed == 0u) {
    return status::ok;
  }
  if (f.leaf_fixed == NULL) {
    return status::bad_argument;
  }
  if (sizeof(typename F::real_type) != 8u || f.n_trees < 2u || f.n_trees > max_approximate_trees ||
      f.n_fixed != f.n_values) {
    return status::bad_table;
  }
  for (uint32_t i = 0; i < f.n_values; ++i) {
    const real_bits r = bits_of(table_read(f.leaves, i));
    const uint64_t one = 0x3FF0000000000000ull;  // 1.0; above it, values > 1 and all negative ones
    if (r.fraction_bits != 52u || r.bits > one ||
        static_cast<uint32_t>(table_read(f.leaf_fixed, i)) != approximate_summand(r.bits)) {
      return status::bad_table;
    }
  }
  return status::ok;
}

template <typename Word, typename F>
inline status entries_validate(const F& f, size_t starts_bytes, size_t entries_bytes) {
  if (f.leaf_starts == NULL || f.leaf_entries == NULL) {
    return status::bad_argument;
  }
  if (f.value_bits == 0u || f.tree_class_bits != 0u || f.leaf_class_bits != 0u || f.entry_class_bits > 16u ||
      entry_bits(f) + 7u > 8u * sizeof(Word) || f.start_bits > 31u || f.start_bits + 7u > 8u * sizeof(Word)) {
    return status::bad_table;
  }
  if (starts_bytes < packed_bytes<Word>(f.n_leaves, f.start_bits)) {
    return status::size_mismatch;
  }
  const Word value_mask = static_cast<Word>((static_cast<Word>(1) << f.value_bits) - 1u);
  const Word class_mask = static_cast<Word>((static_cast<Word>(1) << f.entry_class_bits) - 1u);
  uint32_t next = 0;  // the first entry of the next row
  for (uint32_t leaf = 0; leaf < f.n_leaves; ++leaf) {
    if (row_start<Word>(f, leaf) != next) {
      return status::bad_table;
    }
    for (bool last = false; !last; ++next) {
      const uint64_t end = (static_cast<uint64_t>(next) + 1u) * entry_bits(f);
      if (end >= (static_cast<uint64_t>(1) << 32) || entries_bytes < packed_bytes<Word>(next + 1u, entry_bits(f))) {
        return status::size_mismatch;
      }
      const Word entry = read_field<Word>(f.leaf_entries, next, entry_bits(f));
      if (((entry >> f.value_bits) & class_mask) >= f.leaf_width || (entry & value_mask) >= f.n_values) {
        return status::bad_table;
      }
      last = (entry >> (f.value_bits + f.entry_class_bits)) != 0u;
    }
  }
  return status::ok;
}

/// A categorical node's bitset: an integer bit position whose bits, one
/// per category of the feature, lie inside cat_bits (`bits_bytes` bytes).
template <typename Word, typename F>
inline bool categorical_node_ok(const F& f, uint32_t feature, uint32_t thr, size_t bits_bytes) {
  uint32_t first, last;
  category_range<Word>(f, feature, &first, &last);
  if (first == last) {
    return true;  // a numeric feature
  }
  const float position = table_read(f.thresholds, thr);
  if (!(position >= 0.0f && position < 16777216.0f) ||
      static_cast<float>(static_cast<uint32_t>(position)) != position) {
    return false;
  }
  const uint64_t end = static_cast<uint64_t>(static_cast<uint32_t>(position)) + (last - first);
  return bits_bytes >= packed_bytes<Word>(end, 1u);
}
}  // namespace detail

/// Checks that every record of `f` stays inside its tables, so that walking
/// the model on any input terminates and reads only table memory. Child nodes
/// always lie after their parent, which bounds every walk by n_nodes steps.
/// `nodes_bytes`, `roots_bytes` and `codes_bytes` are the sizes of the bit
/// strings including padding (codes_bytes is ignored when value_bits is 0);
/// `cat_starts_bytes` and `cat_bits_bytes` those of the categorical tables
/// (ignored when n_cat_values is 0), `tree_classes_bytes` that of
/// tree_classes (ignored when tree_class_bits is 0), `leaf_classes_bytes`
/// that of leaf_classes (ignored when leaf_class_bits is 0),
/// `leaf_starts_bytes` and `leaf_entries_bytes` those of leaf_starts and
/// leaf_entries (ignored when entry_class_bits is 0).
/// Returns status::ok, status::bad_argument, status::bad_table or
/// status::size_mismatch.
template <typename Word, typename F>
inline status forest_validate(const F& f, size_t nodes_bytes, size_t roots_bytes, size_t codes_bytes,
                              size_t cat_starts_bytes, size_t cat_bits_bytes, size_t tree_classes_bytes,
                              size_t leaf_classes_bytes, size_t leaf_starts_bytes, size_t leaf_entries_bytes) {
  const uint8_t rec_bits = detail::record_bits(f);
  if (f.leaf_class_bits != 0u) {
    const status votes = detail::votes_validate<Word>(f, leaf_classes_bytes);
    if (votes != status::ok) {
      return votes;
    }
  } else if (f.n_values == 0 || f.leaves == NULL) {
    return status::bad_argument;
  }
  if (f.n_trees == 0 || f.leaf_width == 0 || f.n_leaves == 0 || f.n_features == 0 || f.roots == NULL ||
      (f.n_nodes != 0 && (f.nodes == NULL || f.thresholds == NULL)) ||
      (f.value_bits != 0 && f.entry_class_bits == 0u && f.leaf_codes == NULL)) {
    return status::bad_argument;
  }
  const bool whole_bytes = f.record_bytes != 0u;
  if ((whole_bytes ? (f.record_bytes > sizeof(Word) || rec_bits > 8u * f.record_bytes)
                   : rec_bits + 7u > 8u * sizeof(Word)) ||
      f.root_bits + 7u > 8u * sizeof(Word) ||
      f.value_bits + 7u > 8u * sizeof(Word) || f.feature_bits > 31u || f.ref_bits > 31u ||
      f.thr_bits > 31u) {
    return status::bad_table;
  }
  if (f.tree_class_bits != 0u) {
    if (f.tree_classes == NULL) {
      return status::bad_argument;
    }
    if (f.tree_class_bits > 16u || f.tree_class_bits + 7u > 8u * sizeof(Word)) {
      return status::bad_table;
    }
    if (tree_classes_bytes < packed_bytes<Word>(f.n_trees, f.tree_class_bits)) {
      return status::size_mismatch;
    }
    for (uint32_t t = 0; t < f.n_trees; ++t) {
      if (detail::tree_sum<Word>(f, t) >= f.leaf_width) {
        return status::bad_table;
      }
    }
  }
  const uint64_t n_entries = static_cast<uint64_t>(f.n_leaves) * detail::row_width(f);
  if (f.leaf_class_bits != 0u) {
    // Votes: no leaf values (votes_validate checked the classes).
  } else if (f.entry_class_bits != 0u) {
    const status entries = detail::entries_validate<Word>(f, leaf_starts_bytes, leaf_entries_bytes);
    if (entries != status::ok) {
      return entries;
    }
    const status fixed = detail::fixed_validate(f);
    if (fixed != status::ok) {
      return fixed;
    }
  } else if (f.value_bits == 0) {
    if (f.n_values != n_entries) {
      return status::size_mismatch;
    }
  } else {
    if (n_entries * f.value_bits >= (static_cast<uint64_t>(1) << 32) ||
        codes_bytes < packed_bytes<Word>(n_entries, f.value_bits)) {
      return status::size_mismatch;
    }
    for (uint32_t i = 0; i < static_cast<uint32_t>(n_entries); ++i) {
      if (read_bits<Word>(f.leaf_codes, i * static_cast<uint32_t>(f.value_bits), f.value_bits) >=
          f.n_values) {
        return status::bad_table;
      }
    }
  }
  // Whole-byte records: each read may reach read_bytes_span() bytes.
  const uint64_t records_bytes =
      !whole_bytes ? packed_bytes<Word>(f.n_nodes, rec_bits)
      : f.n_nodes == 0u ? 0u
                        : static_cast<uint64_t>(f.n_nodes) * f.record_bytes + read_bytes_span(f.record_bytes) - f.record_bytes;
  if (records_bytes >= (static_cast<uint64_t>(1) << 32) || nodes_bytes < records_bytes ||
      roots_bytes < packed_bytes<Word>(f.n_trees, f.root_bits)) {
    return status::size_mismatch;
  }
  if (f.thr_bits == 0 && f.n_thresholds < f.n_nodes) {
    return status::size_mismatch;
  }
  if (f.nonnegative_thresholds > 1u) {
    return status::bad_table;
  }
  for (uint32_t i = 0; f.nonnegative_thresholds != 0u && i < f.n_thresholds; ++i) {
    uint32_t bits;
    const float t = table_read(f.thresholds, i);
    memcpy(&bits, &t, sizeof bits);
    if ((bits >> 31) != 0u) {
      return status::bad_table;  // a threshold with its sign bit set
    }
  }
  if (f.n_cat_values != 0u) {
    const status categories = detail::categories_validate<Word>(f, cat_starts_bytes, cat_bits_bytes);
    if (categories != status::ok) {
      return categories;
    }
  }
  for (uint32_t t = 0; t < f.n_trees; ++t) {
    const Word root = read_bits<Word>(f.roots, t * static_cast<uint32_t>(f.root_bits), f.root_bits);
    if (root >= static_cast<Word>(f.n_nodes) + f.n_leaves) {
      return status::bad_table;
    }
  }
  const uint8_t ref_shift = static_cast<uint8_t>(f.feature_bits + detail::flag_bits);
  for (uint32_t node = 0; node < f.n_nodes; ++node) {
    const Word record = detail::node_record<Word>(f, node);
    if (whole_bytes && rec_bits < 8u * sizeof(Word) && (record >> rec_bits) != 0u) {
      return status::bad_table;  // the bits above record_bits are not zero
    }
    const uint32_t feature = static_cast<uint32_t>(record & ((static_cast<Word>(1) << f.feature_bits) - 1u));
    const uint32_t flags = static_cast<uint32_t>(record >> f.feature_bits) & 7u;
    const uint32_t ref = static_cast<uint32_t>((record >> ref_shift) & ((static_cast<Word>(1) << f.ref_bits) - 1u));
    const uint32_t thr = f.thr_bits ? static_cast<uint32_t>(record >> (ref_shift + f.ref_bits)) : node;
    if (feature >= f.n_features || thr >= f.n_thresholds || is_missing(table_read(f.thresholds, thr))) {
      return status::bad_table;
    }
    if (f.n_cat_values != 0u && !detail::categorical_node_ok<Word>(f, feature, thr, cat_bits_bytes)) {
      return status::bad_table;
    }
    const bool left_leaf = (flags & detail::flag_left_leaf) != 0;
    const bool right_leaf = (flags & detail::flag_right_leaf) != 0;
    if (left_leaf || right_leaf) {
      const uint32_t last_leaf = ref + ((left_leaf && right_leaf) ? 1u : 0u);
      if (last_leaf >= f.n_leaves || last_leaf < ref) {
        return status::bad_table;
      }
    }
    // The next record is a child unless both children are leaves.
    if (!(left_leaf && right_leaf) && node + 1u >= f.n_nodes) {
      return status::bad_table;
    }
    if (!left_leaf && !right_leaf && (ref < 2u || ref >= f.n_nodes - node)) {
      return status::bad_table;
    }
  }
  return status::ok;
}

/// forest_validate of a model without entry rows.
template <typename Word, typename F>
inline status forest_validate(const F& f, size_t nodes_bytes, size_t roots_bytes, size_t codes_bytes,
                              size_t cat_starts_bytes, size_t cat_bits_bytes, size_t tree_classes_bytes,
                              size_t leaf_classes_bytes) {
  return forest_validate<Word>(f, nodes_bytes, roots_bytes, codes_bytes, cat_starts_bytes, cat_bits_bytes,
                               tree_classes_bytes, leaf_classes_bytes, 0u, 0u);
}

/// forest_validate of a model without class votes and entry rows.
template <typename Word, typename F>
inline status forest_validate(const F& f, size_t nodes_bytes, size_t roots_bytes, size_t codes_bytes,
                              size_t cat_starts_bytes, size_t cat_bits_bytes, size_t tree_classes_bytes) {
  return forest_validate<Word>(f, nodes_bytes, roots_bytes, codes_bytes, cat_starts_bytes, cat_bits_bytes,
                               tree_classes_bytes, 0u);
}

/// forest_validate of a model without categorical features, sparse rows
/// and class votes.
template <typename Word, typename F>
inline status forest_validate(const F& f, size_t nodes_bytes, size_t roots_bytes, size_t codes_bytes) {
  return forest_validate<Word>(f, nodes_bytes, roots_bytes, codes_bytes, 0u, 0u, 0u, 0u, 0u, 0u);
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_TREE_ENSEMBLE_HPP
