// emlearn-gen runtime: models loaded at run time from model files.
//
//   alignas(8) static uint8_t buffer[...];   // the file: RAM, or flash (PROGMEM on AVR)
//   emlearn_gen::loaded_model model;
//   if (emlearn_gen::model_load(buffer, size, &model) != emlearn_gen::status::ok) { ... }
//   size_t need = emlearn_gen::model_scratch_bytes(model, emlearn_gen::entry_id::predict);
//   int32_t label;
//   emlearn_gen::model_run(model, emlearn_gen::entry_id::predict, x, NULL, &label, scratch, scratch_size);
//
// model_load checks the whole file before anything runs on it: the frame
// (model_file.hpp), then the family's layout (tables of the right element
// types, fields in range), then every index inside every table with the
// family's own <family>_validate, and that every entry point the file lists
// is one this model has. After that model_run calls the same kernels a
// generated header calls, on the same tables, so the results are bit-equal.
// Nothing is allocated: the descriptor lives in `loaded_model` (the caller's)
// and points into the caller's buffer, which must outlive it; scratch
// arrays, which a header keeps on the stack, come from the caller, sized
// by model_scratch_bytes from the loaded model itself.
//
// The order of each family's tables and fields below is its Layout's
// (emlearn_gen/families/<family>/__init__.py), which the writer follows
// (emlearn_gen/core/model_file.py): a change to a Layout changes the loader
// here too. tests/test_model_files.py loads a file of every catalog model
// through this loader, so a disagreement fails there.
#ifndef EMLEARN_GEN_LOADER_HPP
#define EMLEARN_GEN_LOADER_HPP

#include "clusters.hpp"
#include "linear.hpp"
#include "mixture.hpp"
#include "mlp.hpp"
#include "model_file.hpp"
#include "naive_bayes.hpp"
#include "neighbors.hpp"
#include "svm.hpp"
#include "transforms.hpp"
#include "tree_ensemble.hpp"

namespace emlearn_gen {

/// A model loaded from a file: the parsed file and the family's descriptor.
struct loaded_model {
  model_file file;
  uint8_t word_bits;  ///< trees: bits of the record word (32 or 64)
  bool flag;          ///< trees: an isolation forest; mixture: an envelope
  union {
    forest<float> trees32;
    forest<real64> trees64;
    linear_model linear;
    mlp_model_t<float> mlp32;
    mlp_model_t<real64> mlp64;
    naive_bayes_model naive_bayes;
    svm_model_t<float> svm32;
    svm_model_t<real64> svm64;
    neighbors_model neighbors;
    mixture_model mixture;
    clusters_model clusters;
    transforms_model transforms;
  } d;
};

/// The table format of `family` that this runtime reads (its
/// EMLEARN_GEN_<FAMILY>_FORMAT), or -1 for an unknown family.
inline int model_family_format(uint8_t family) {
  switch (static_cast<model_family>(family)) {
    case model_family::trees: return EMLEARN_GEN_TREES_FORMAT;
    case model_family::linear: return EMLEARN_GEN_LINEAR_FORMAT;
    case model_family::mlp: return EMLEARN_GEN_MLP_FORMAT;
    case model_family::naive_bayes: return EMLEARN_GEN_NAIVE_BAYES_FORMAT;
    case model_family::svm: return EMLEARN_GEN_SVM_FORMAT;
    case model_family::neighbors: return EMLEARN_GEN_NEIGHBORS_FORMAT;
    case model_family::mixture: return EMLEARN_GEN_MIXTURE_FORMAT;
    case model_family::clusters: return EMLEARN_GEN_CLUSTERS_FORMAT;
    case model_family::transforms: return EMLEARN_GEN_TRANSFORMS_FORMAT;
  }
  return -1;
}

namespace detail {

/// Element-type codes of a layout: 'r' stands for the model's real type.
/// Each family's string lists its tables in its Layout's order.
inline uint8_t layout_element(char code, uint8_t real) {
  switch (code) {
    case 'b': return static_cast<uint8_t>(element_type::u8);
    case 'c': return static_cast<uint8_t>(element_type::i8);
    case 'h': return static_cast<uint8_t>(element_type::i16);
    case 'u': return static_cast<uint8_t>(element_type::u32);
    case 'f': return static_cast<uint8_t>(element_type::f32);
    case 'r':
      return static_cast<uint8_t>(real == static_cast<uint8_t>(real_type::float64) ? element_type::f64
                                                                                     : element_type::f32);
  }
  return 0u;
}

/// Checks that the file has `tables` (element codes, as layout_element)
/// and `n_fields` fields.
inline bool layout_matches(const model_file& f, const char* tables, uint8_t n_fields) {
  uint8_t n = 0;
  for (; tables[n] != '\0'; ++n) {
    if (n >= f.n_tables || f.tables[n].type != layout_element(tables[n], f.real)) return false;
  }
  return n == f.n_tables && n_fields == f.n_fields;
}

/// Table i of the file as elements of T (its type checked by layout_matches).
template <typename T>
inline const T* file_data(const model_file& f, uint8_t i) {
  return static_cast<const T*>(f.tables[i].data);
}

/// A field that must fit `max`; sets `ok` to false where it does not.
inline uint32_t field(const model_file& f, uint8_t i, uint32_t max, bool* ok) {
  if (f.fields[i] > max) *ok = false;
  return f.fields[i];
}

/// Scratch arrays carved from the caller's buffer, each 8-byte aligned. A
/// measuring arena (no buffer) only adds up what the entry point takes.
struct arena {
  uint8_t* base;
  size_t size;
  size_t used;
  bool measuring;

  template <typename T>
  T* take(uint32_t n) {
    const size_t at = (used + 7u) & ~static_cast<size_t>(7u);
    used = at + static_cast<size_t>(n ? n : 1u) * sizeof(T);
    return measuring || used > size ? static_cast<T*>(NULL) : reinterpret_cast<T*>(base + at);
  }
  /// Whether every array taken so far is in the buffer: the entry point may run.
  bool ready() const { return !measuring && used <= size; }
};

/// What an entry point's dispatch found: run (or measured), or no such entry
/// point in this model.
inline status no_entry() { return status::unsupported; }
inline status not_ready(const arena& a) { return a.measuring ? status::ok : status::size_mismatch; }

/// Output pointers of model_run: one int32 (label, outlier), `width` int32
/// (indicator) or `width` floats (values).
struct outputs {
  float* values;
  int32_t* ints;
  uint32_t width;
};

// ---- trees -------------------------------------------------------------

template <typename Real>
inline status load_trees_as(const model_file& f, forest<Real>* m, uint8_t word_bits, bool* outlier) {
  bool ok = true;
  m->nodes = file_data<uint8_t>(f, 0);
  m->thresholds = file_data<float>(f, 1);
  m->leaves = file_data<Real>(f, 2);
  m->leaf_codes = file_data<uint8_t>(f, 3);
  m->roots = file_data<uint8_t>(f, 4);
  m->real_constants = file_data<Real>(f, 5);
  m->float_constants = file_data<float>(f, 6);
  m->cat_values = file_data<float>(f, 7);
  m->cat_starts = file_data<uint8_t>(f, 8);
  m->cat_bits = file_data<uint8_t>(f, 9);
  m->tree_classes = file_data<uint8_t>(f, 10);
  m->leaf_classes = file_data<uint8_t>(f, 11);
  m->leaf_starts = file_data<uint8_t>(f, 12);
  m->leaf_entries = file_data<uint8_t>(f, 13);
  m->leaf_fixed = file_data<int16_t>(f, 14);
  m->n_nodes = field(f, 0, 0x7FFFFFFFu, &ok);
  m->n_leaves = field(f, 1, 0x7FFFFFFFu, &ok);
  m->n_trees = field(f, 2, UINT32_MAX, &ok);
  m->n_features = field(f, 3, UINT32_MAX, &ok);
  m->leaf_width = static_cast<uint16_t>(field(f, 4, UINT16_MAX, &ok));
  m->feature_bits = static_cast<uint8_t>(field(f, 5, 63u, &ok));
  m->ref_bits = static_cast<uint8_t>(field(f, 6, 63u, &ok));
  m->thr_bits = static_cast<uint8_t>(field(f, 7, 63u, &ok));
  m->root_bits = static_cast<uint8_t>(field(f, 8, 63u, &ok));
  m->value_bits = static_cast<uint8_t>(field(f, 9, 63u, &ok));
  // fields 10, 11: word_bits and real_bits, read by load_trees
  *outlier = field(f, 12, 1u, &ok) != 0u;
  m->boost = static_cast<uint8_t>(field(f, 13, boost_link::exp, &ok));
  m->n_cat_values = field(f, 14, UINT32_MAX, &ok);
  m->cat_start_bits = static_cast<uint8_t>(field(f, 15, 63u, &ok));
  m->tree_class_bits = static_cast<uint8_t>(field(f, 16, 16u, &ok));
  m->leaf_class_bits = static_cast<uint8_t>(field(f, 17, 16u, &ok));
  m->record_bytes = static_cast<uint8_t>(field(f, 18, 8u, &ok));
  m->entry_class_bits = static_cast<uint8_t>(field(f, 19, 16u, &ok));
  m->start_bits = static_cast<uint8_t>(field(f, 20, 31u, &ok));
  m->nonnegative_thresholds = static_cast<uint8_t>(field(f, 21, 1u, &ok));
  m->n_thresholds = f.tables[1].count;
  m->n_values = f.tables[2].count;
  m->n_fixed = f.tables[14].count;
  if (!ok || m->n_cat_values != f.tables[7].count) return status::bad_table;
  // Every tree takes at least one bit of the roots table, except where all
  // share one root (root_bits 0): then nothing bounds n_trees, and a file
  // of a few bytes could make each prediction walk billions of trees. A
  // file holds at most 8 trees per byte, as if each had a one-bit root.
  if (static_cast<uint64_t>(m->n_trees) > 8u * static_cast<uint64_t>(f.size)) return status::bad_table;
  const uint32_t n_real_constants = f.tables[5].count;
  if ((m->boost == boost_link::median && n_real_constants != m->n_trees) ||
      (m->boost == boost_link::samme && n_real_constants != 1u) ||
      (*outlier && (n_real_constants != 1u || f.tables[6].count != 2u || m->leaf_width != 1u))) {
    return status::bad_table;
  }
  if (word_bits == 32u) {
    return forest_validate<uint32_t>(*m, f.tables[0].count, f.tables[4].count, f.tables[3].count, f.tables[8].count,
                                     f.tables[9].count, f.tables[10].count, f.tables[11].count, f.tables[12].count,
                                     f.tables[13].count);
  }
  return forest_validate<uint64_t>(*m, f.tables[0].count, f.tables[4].count, f.tables[3].count, f.tables[8].count,
                                   f.tables[9].count, f.tables[10].count, f.tables[11].count, f.tables[12].count,
                                   f.tables[13].count);
}

inline status load_trees(loaded_model* out) {
  const model_file& f = out->file;
  if (!layout_matches(f, "bfrbbrffbbbbbbh", 22)) return status::bad_file;
  const uint32_t word_bits = f.fields[10];
  const uint32_t real_bits = f.fields[11];
  const uint32_t file_bits = f.real == static_cast<uint8_t>(real_type::float64) ? 64u : 32u;
  if ((word_bits != 32u && word_bits != 64u) || real_bits != file_bits) return status::bad_table;
  out->word_bits = static_cast<uint8_t>(word_bits);
  if (real_bits == 64u) return load_trees_as(f, &out->d.trees64, out->word_bits, &out->flag);
  return load_trees_as(f, &out->d.trees32, out->word_bits, &out->flag);
}

// The trees' entry points, as the generated header's bodies
// (families/trees/model.hpp.j2), with the record word `Word`.
template <typename Word, typename Real>
inline status run_trees_as(const forest<Real>& m, bool outlier, const file_entry& e, const float* x, outputs o,
                           arena& a) {
  const uint8_t id = e.id;
  const bool label = e.kind == static_cast<uint8_t>(output_kind::label);
  const bool values = e.kind == static_cast<uint8_t>(output_kind::values);
  if (m.boost == boost_link::median) {
    if (id != static_cast<uint8_t>(entry_id::predict) || !values || e.width != 1u) return no_entry();
    Real* v = a.take<Real>(m.n_trees);
    uint32_t* order = a.take<uint32_t>(m.n_trees);
    if (!a.ready()) return not_ready(a);
    o.values[0] = to_float(adaboost_median<Word>(m, x, v, order));
    return status::ok;
  }
  if (m.boost != 0u) {
    const bool binary = m.boost == boost_link::logistic || m.boost == boost_link::logistic2x ||
                        m.boost == boost_link::logistic_positive;
    const bool regressor = m.boost == boost_link::identity || m.boost == boost_link::exp;
    const uint32_t n_classes = binary ? 2u : m.leaf_width;
    const uint32_t n_decision = m.boost == boost_link::samme && m.leaf_width == 2u ? 1u : m.leaf_width;
    const bool proba = id == static_cast<uint8_t>(entry_id::predict_proba) && values && e.width == n_classes &&
                       !regressor;
    const bool raw = (id == static_cast<uint8_t>(entry_id::decision_function) ||
                      id == static_cast<uint8_t>(entry_id::predict)) &&
                     values && e.width == n_decision;
    const bool is_label = id == static_cast<uint8_t>(entry_id::predict) && label && !regressor;
    if (!proba && !raw && !is_label) return no_entry();
    Real* sums = a.take<Real>(m.leaf_width);
    if (!a.ready()) return not_ready(a);
    if (is_label) {
      o.ints[0] = boost_label<Word>(m, x, sums);
    } else if (proba) {
      boost_proba<Word>(m, x, sums, o.values);
    } else {
      boost_raw<Word>(m, x, sums, o.values);
    }
    return status::ok;
  }
  if (outlier) {
    const bool one = values && e.width == 1u;
    if (id == static_cast<uint8_t>(entry_id::predict) && e.kind == static_cast<uint8_t>(output_kind::outlier)) {
      if (!a.ready()) return not_ready(a);
      o.ints[0] = isolation_predict<Word>(m, x);
    } else if (id == static_cast<uint8_t>(entry_id::score_samples) && one) {
      if (!a.ready()) return not_ready(a);
      o.values[0] = isolation_score<Word>(m, x);
    } else if (id == static_cast<uint8_t>(entry_id::decision_function) && one) {
      if (!a.ready()) return not_ready(a);
      o.values[0] = isolation_decision<Word>(m, x);
    } else {
      return no_entry();
    }
    return status::ok;
  }
  const bool mean = (id == static_cast<uint8_t>(entry_id::predict) ||
                     id == static_cast<uint8_t>(entry_id::predict_proba)) &&
                    values && e.width == m.leaf_width;
  const bool is_label = id == static_cast<uint8_t>(entry_id::predict) && label;
  if (!mean && !is_label) return no_entry();
  if (m.leaf_class_bits != 0u) {  // one-hot leaves: class votes
    uint32_t* votes = a.take<uint32_t>(m.leaf_width);
    if (!a.ready()) return not_ready(a);
    forest_votes<Word>(m, x, votes);
    if (is_label) {
      o.ints[0] = argmax(votes, static_cast<int32_t>(m.leaf_width));
    } else {
      forest_vote_shares(m, votes, o.values);
    }
    return status::ok;
  }
  Real* sums = a.take<Real>(m.leaf_width);
  uint32_t* approx = is_label ? a.take<uint32_t>(m.leaf_width) : static_cast<uint32_t*>(NULL);
  if (!a.ready()) return not_ready(a);
  if (is_label) {
    o.ints[0] = forest_label<Word>(m, x, sums, approx);
  } else {
    forest_mean<Word>(m, x, sums);
    for (uint32_t i = 0; i < m.leaf_width; ++i) o.values[i] = to_float(sums[i]);
  }
  return status::ok;
}

inline status run_trees(const loaded_model& m, const file_entry& e, const float* x, outputs o, arena& a) {
  const bool r64 = m.file.real == static_cast<uint8_t>(real_type::float64);
  if (m.word_bits == 32u) {
    return r64 ? run_trees_as<uint32_t>(m.d.trees64, m.flag, e, x, o, a)
               : run_trees_as<uint32_t>(m.d.trees32, m.flag, e, x, o, a);
  }
  return r64 ? run_trees_as<uint64_t>(m.d.trees64, m.flag, e, x, o, a)
             : run_trees_as<uint64_t>(m.d.trees32, m.flag, e, x, o, a);
}

// ---- linear --------------------------------------------------------------

inline status load_linear(loaded_model* out) {
  const model_file& f = out->file;
  if (!layout_matches(f, "ff", 3)) return status::bad_file;
  linear_model& m = out->d.linear;
  bool ok = true;
  m.weights = file_data<float>(f, 0);
  m.intercepts = file_data<float>(f, 1);
  m.n_features = field(f, 0, UINT32_MAX, &ok);
  m.n_scores = field(f, 1, UINT32_MAX, &ok);
  m.link = static_cast<uint8_t>(field(f, 2, UINT8_MAX, &ok));
  if (!ok) return status::bad_table;
  return linear_validate(m, f.tables[0].count, f.tables[1].count);
}

inline status run_linear(const linear_model& m, const file_entry& e, const float* x, outputs o, arena& a) {
  const bool values = e.kind == static_cast<uint8_t>(output_kind::values);
  if (e.id == static_cast<uint8_t>(entry_id::predict) && e.kind == static_cast<uint8_t>(output_kind::label)) {
    float* scores = a.take<float>(m.n_scores);
    if (!a.ready()) return not_ready(a);
    o.ints[0] = linear_label(m, x, scores);
  } else if (e.id == static_cast<uint8_t>(entry_id::decision_function) && values && e.width == m.n_scores) {
    if (!a.ready()) return not_ready(a);
    linear_scores(m, x, o.values);
  } else if (e.id == static_cast<uint8_t>(entry_id::predict_proba) && values && e.width == linear_n_classes(m)) {
    if (!a.ready()) return not_ready(a);
    linear_proba(m, x, o.values);
  } else if (e.id == static_cast<uint8_t>(entry_id::predict) && values && e.width == m.n_scores) {
    if (!a.ready()) return not_ready(a);
    linear_predict(m, x, o.values);
  } else {
    return no_entry();
  }
  return status::ok;
}

// ---- mlp -------------------------------------------------------------------

template <typename Real>
inline status load_mlp_as(const model_file& f, mlp_model_t<Real>* m, uint8_t weight_type) {
  bool ok = true;
  m->weights = file_data<Real>(f, 0);
  m->qweights = file_data<int8_t>(f, 1);
  m->scales = file_data<float>(f, 2);
  m->biases = file_data<Real>(f, 3);
  m->sizes = file_data<uint32_t>(f, 4);
  m->n_features = field(f, 0, UINT32_MAX, &ok);
  m->n_layers = field(f, 1, UINT32_MAX, &ok);
  m->n_outputs = field(f, 2, UINT32_MAX, &ok);
  m->max_width = field(f, 3, UINT32_MAX, &ok);
  m->hidden_activation = static_cast<uint8_t>(field(f, 4, UINT8_MAX, &ok));
  m->output_activation = static_cast<uint8_t>(field(f, 5, UINT8_MAX, &ok));
  m->weight_type = weight_type;
  if (!ok) return status::bad_table;
  return mlp_validate(*m, f.tables[0].count, f.tables[1].count, f.tables[2].count, f.tables[3].count,
                      f.tables[4].count);
}

inline status load_mlp(loaded_model* out) {
  const model_file& f = out->file;
  if (!layout_matches(f, "rcfru", 7)) return status::bad_file;
  const uint32_t weight_type = f.fields[6];
  const bool r64 = f.real == static_cast<uint8_t>(real_type::float64);
  if (weight_type > mlp_weights::float64 || (weight_type == mlp_weights::float64) != r64) return status::bad_table;
  if (r64) return load_mlp_as(f, &out->d.mlp64, static_cast<uint8_t>(weight_type));
  return load_mlp_as(f, &out->d.mlp32, static_cast<uint8_t>(weight_type));
}

// Two buffers of max_width values: the most any entry point uses (the
// kernels never touch a buffer they do not need, mlp.hpp).
template <typename Real>
inline status run_mlp_as(const mlp_model_t<Real>& m, const file_entry& e, const float* x, outputs o, arena& a) {
  const bool values = e.kind == static_cast<uint8_t>(output_kind::values);
  const bool predict = e.id == static_cast<uint8_t>(entry_id::predict);
  const bool label = predict && e.kind == static_cast<uint8_t>(output_kind::label);
  const bool indicator = predict && e.kind == static_cast<uint8_t>(output_kind::indicator) && e.width == m.n_outputs;
  const bool outputs_ = predict && values && e.width == m.n_outputs;
  const bool proba = e.id == static_cast<uint8_t>(entry_id::predict_proba) && values &&
                     e.width == (m.n_outputs == 1u ? 2u : m.n_outputs);
  if (!label && !indicator && !outputs_ && !proba) return no_entry();
  Real* buf_a = a.take<Real>(m.max_width);
  Real* buf_b = a.take<Real>(m.max_width);
  if (!a.ready()) return not_ready(a);
  if (label) {
    o.ints[0] = mlp_label(m, x, buf_a, buf_b);
  } else if (indicator) {
    mlp_indicator(m, x, buf_a, buf_b, o.ints);
  } else if (proba) {
    mlp_proba(m, x, buf_a, buf_b, o.values);
  } else {
    mlp_predict(m, x, buf_a, buf_b, o.values);
  }
  return status::ok;
}

// ---- naive Bayes ---------------------------------------------------------

inline status load_naive_bayes(loaded_model* out) {
  const model_file& f = out->file;
  if (!layout_matches(f, "fffhf", 3)) return status::bad_file;
  naive_bayes_model& m = out->d.naive_bayes;
  bool ok = true;
  m.weights = file_data<float>(f, 0);
  m.means = file_data<float>(f, 1);
  m.constants = file_data<float>(f, 2);
  m.categories = file_data<int16_t>(f, 3);
  m.thresholds = file_data<float>(f, 4);
  m.n_features = field(f, 0, UINT32_MAX, &ok);
  m.n_classes = field(f, 1, UINT32_MAX, &ok);
  m.kind = static_cast<uint8_t>(field(f, 2, UINT8_MAX, &ok));
  if (!ok) return status::bad_table;
  return naive_bayes_validate(m, f.tables[0].count, f.tables[1].count, f.tables[2].count, f.tables[3].count,
                              f.tables[4].count);
}

inline status run_naive_bayes(const naive_bayes_model& m, const file_entry& e, const float* x, outputs o,
                              arena& a) {
  const bool values = e.kind == static_cast<uint8_t>(output_kind::values) && e.width == m.n_classes;
  if (e.id == static_cast<uint8_t>(entry_id::predict) && e.kind == static_cast<uint8_t>(output_kind::label)) {
    float* jll = a.take<float>(m.n_classes);
    if (!a.ready()) return not_ready(a);
    o.ints[0] = naive_bayes_label(m, x, jll);
  } else if (e.id == static_cast<uint8_t>(entry_id::predict_proba) && values) {
    if (!a.ready()) return not_ready(a);
    naive_bayes_proba(m, x, o.values);
  } else if (e.id == static_cast<uint8_t>(entry_id::predict_log_proba) && values) {
    if (!a.ready()) return not_ready(a);
    naive_bayes_log_proba(m, x, o.values);
  } else if (e.id == static_cast<uint8_t>(entry_id::predict_joint_log_proba) && values) {
    if (!a.ready()) return not_ready(a);
    naive_bayes_jll(m, x, o.values);
  } else {
    return no_entry();
  }
  return status::ok;
}

// ---- svm -----------------------------------------------------------------

template <typename Real>
inline status load_svm_as(const model_file& f, svm_model_t<Real>* m, uint8_t real_bits) {
  bool ok = true;
  m->support_vectors = file_data<Real>(f, 0);
  m->dual_coef = file_data<Real>(f, 1);
  m->intercepts = file_data<Real>(f, 2);
  m->class_start = file_data<uint32_t>(f, 3);
  m->params = file_data<Real>(f, 4);
  m->prob_a = file_data<Real>(f, 5);
  m->prob_b = file_data<Real>(f, 6);
  m->n_features = field(f, 0, UINT32_MAX, &ok);
  m->n_sv = field(f, 1, UINT32_MAX, &ok);
  m->n_classes = field(f, 2, UINT32_MAX, &ok);
  m->degree = field(f, 3, UINT32_MAX, &ok);
  m->kernel = static_cast<uint8_t>(field(f, 4, UINT8_MAX, &ok));
  m->ovr = static_cast<uint8_t>(field(f, 5, UINT8_MAX, &ok));
  m->break_ties = static_cast<uint8_t>(field(f, 6, UINT8_MAX, &ok));
  m->has_proba = static_cast<uint8_t>(field(f, 7, UINT8_MAX, &ok));
  m->real_bits = real_bits;
  if (!ok) return status::bad_table;
  return svm_validate(*m, f.tables[0].count, f.tables[1].count, f.tables[2].count, f.tables[3].count,
                      f.tables[4].count, f.tables[5].count, f.tables[6].count);
}

inline status load_svm(loaded_model* out) {
  const model_file& f = out->file;
  if (!layout_matches(f, "rrrurrr", 9)) return status::bad_file;
  const bool r64 = f.real == static_cast<uint8_t>(real_type::float64);
  if (f.fields[8] != (r64 ? 64u : 32u)) return status::bad_table;
  if (r64) return load_svm_as(f, &out->d.svm64, 64u);
  return load_svm_as(f, &out->d.svm32, 32u);
}

template <typename Real>
inline status run_svm_as(const svm_model_t<Real>& m, const file_entry& e, const float* x, outputs o, arena& a) {
  typedef Real Value;  // the decisions' type, as the header's value_type
  const bool values = e.kind == static_cast<uint8_t>(output_kind::values);
  const uint8_t id = e.id;
  if (m.n_classes >= 2u) {
    const uint32_t n_decisions = svm_n_decisions(m);
    const bool label = id == static_cast<uint8_t>(entry_id::predict) && e.kind == static_cast<uint8_t>(output_kind::label);
    const bool proba = id == static_cast<uint8_t>(entry_id::predict_proba) && values && m.has_proba &&
                       e.width == m.n_classes;
    const bool decision = id == static_cast<uint8_t>(entry_id::decision_function) && values &&
                          e.width == svm_decision_width(m);
    if (!label && !proba && !decision) return no_entry();
    Value* dec = a.take<Value>(n_decisions);
    Value* coupling = proba ? a.take<Value>(svm_proba_scratch(m)) : static_cast<Value*>(NULL);
    if (!a.ready()) return not_ready(a);
    if (label) {
      o.ints[0] = svm_label(m, x, dec);
    } else if (proba) {
      svm_decisions(m, x, dec);
      svm_proba(m, dec, coupling, o.values);
    } else {
      svm_decisions(m, x, dec);
      svm_decision_function(m, dec, o.values);
    }
    return status::ok;
  }
  const bool one = values && e.width == 1u;
  if (id == static_cast<uint8_t>(entry_id::predict) && e.kind == static_cast<uint8_t>(output_kind::outlier)) {
    if (!a.ready()) return not_ready(a);
    o.ints[0] = svm_outlier(m, x);
  } else if (id == static_cast<uint8_t>(entry_id::score_samples) && one) {
    if (!a.ready()) return not_ready(a);
    o.values[0] = svm_score(m, x);
  } else if ((id == static_cast<uint8_t>(entry_id::decision_function) || id == static_cast<uint8_t>(entry_id::predict)) &&
             one) {
    if (!a.ready()) return not_ready(a);
    o.values[0] = svm_value(m, x);
  } else {
    return no_entry();
  }
  return status::ok;
}

// ---- neighbours ------------------------------------------------------------

inline status load_neighbors(loaded_model* out) {
  const model_file& f = out->file;
  if (!layout_matches(f, "fhffhfffffff", 11)) return status::bad_file;
  neighbors_model& m = out->d.neighbors;
  bool ok = true;
  m.points = file_data<float>(f, 0);
  m.qpoints = file_data<int16_t>(f, 1);
  m.qscales = file_data<float>(f, 2);
  m.qoffsets = file_data<float>(f, 3);
  m.labels = file_data<int16_t>(f, 4);
  m.targets = file_data<float>(f, 5);
  m.kdist = file_data<float>(f, 6);
  m.lrd = file_data<float>(f, 7);
  m.scaled_points = file_data<float>(f, 8);
  m.stds = file_data<float>(f, 9);
  m.priors = file_data<float>(f, 10);
  m.params = file_data<float>(f, 11);
  m.n_features = field(f, 0, UINT32_MAX, &ok);
  m.n_points = field(f, 1, UINT32_MAX, &ok);
  m.n_classes = field(f, 2, UINT32_MAX, &ok);
  m.n_outputs = field(f, 3, UINT32_MAX, &ok);
  m.k = field(f, 4, UINT32_MAX, &ok);
  m.outlier_class = field(f, 5, UINT32_MAX, &ok);
  m.kind = static_cast<uint8_t>(field(f, 6, UINT8_MAX, &ok));
  m.metric = static_cast<uint8_t>(field(f, 7, UINT8_MAX, &ok));
  m.weighting = static_cast<uint8_t>(field(f, 8, UINT8_MAX, &ok));
  m.storage = static_cast<uint8_t>(field(f, 9, UINT8_MAX, &ok));
  m.use_priors = static_cast<uint8_t>(field(f, 10, 1u, &ok));
  if (!ok) return status::bad_table;
  return neighbors_validate(m, f.tables[0].count, f.tables[1].count, f.tables[2].count, f.tables[3].count,
                            f.tables[4].count, f.tables[5].count, f.tables[6].count, f.tables[7].count,
                            f.tables[8].count, f.tables[9].count, f.tables[10].count, f.tables[11].count);
}

inline status run_neighbors(const neighbors_model& m, const file_entry& e, const float* x, outputs o, arena& a) {
  namespace kind = neighbors_kind;
  const uint8_t id = e.id;
  const bool label = id == static_cast<uint8_t>(entry_id::predict) && e.kind == static_cast<uint8_t>(output_kind::label);
  const bool values = e.kind == static_cast<uint8_t>(output_kind::values);
  const bool proba = id == static_cast<uint8_t>(entry_id::predict_proba) && values && e.width == m.n_classes;
  const bool predict_values = id == static_cast<uint8_t>(entry_id::predict) && values && e.width == m.n_outputs;
  switch (m.kind) {
    case kind::knn_classifier:
    case kind::knn_regressor:
    case kind::lof: {
      const bool classifier = m.kind == kind::knn_classifier;
      const bool one = values && e.width == 1u;
      const bool lof_outlier = m.kind == kind::lof && id == static_cast<uint8_t>(entry_id::predict) &&
                               e.kind == static_cast<uint8_t>(output_kind::outlier);
      const bool lof_decision_ = m.kind == kind::lof && id == static_cast<uint8_t>(entry_id::decision_function) && one;
      const bool lof_score_ = m.kind == kind::lof && id == static_cast<uint8_t>(entry_id::score_samples) && one;
      const bool knn_label_ = classifier && label;
      const bool knn_proba_ = classifier && proba;
      const bool knn_values = m.kind == kind::knn_regressor && predict_values;
      if (!lof_outlier && !lof_decision_ && !lof_score_ && !knn_label_ && !knn_proba_ && !knn_values) {
        return no_entry();
      }
      float* best = a.take<float>(m.k);
      uint32_t* index = a.take<uint32_t>(m.k);
      float* votes = knn_label_ ? a.take<float>(m.n_classes) : static_cast<float*>(NULL);
      if (!a.ready()) return not_ready(a);
      if (knn_label_) {
        o.ints[0] = knn_label(m, x, best, index, votes);
      } else if (knn_proba_) {
        knn_proba(m, x, best, index, o.values);
      } else if (knn_values) {
        knn_predict(m, x, best, index, o.values);
      } else if (lof_outlier) {
        o.ints[0] = lof_predict(m, x, best, index);
      } else if (lof_decision_) {
        o.values[0] = lof_decision(m, x, best, index);
      } else {
        o.values[0] = lof_score(m, x, best, index);
      }
      return status::ok;
    }
    case kind::radius_classifier:
      if (label) {
        float* votes = a.take<float>(m.n_classes);
        if (!a.ready()) return not_ready(a);
        o.ints[0] = radius_label(m, x, votes);
      } else if (proba) {
        if (!a.ready()) return not_ready(a);
        radius_proba(m, x, o.values);
      } else {
        return no_entry();
      }
      return status::ok;
    case kind::radius_regressor:
      if (!predict_values) return no_entry();
      if (!a.ready()) return not_ready(a);
      radius_predict(m, x, o.values);
      return status::ok;
    case kind::centroid: {
      const bool decision = id == static_cast<uint8_t>(entry_id::decision_function) && values &&
                            e.width == centroid_decision_width(m);
      if (!label && !decision && !proba) return no_entry();
      float* xs = a.take<float>(m.n_features);
      float* scores = proba ? static_cast<float*>(NULL) : a.take<float>(m.n_classes);
      if (!a.ready()) return not_ready(a);
      if (label) {
        o.ints[0] = centroid_label(m, x, xs, scores);
      } else if (decision) {
        centroid_decision(m, x, xs, scores, o.values);
      } else {
        centroid_proba(m, x, xs, o.values);
      }
      return status::ok;
    }
  }
  return no_entry();
}

// ---- mixture -------------------------------------------------------------

inline status load_mixture(loaded_model* out) {
  const model_file& f = out->file;
  if (!layout_matches(f, "fff", 4)) return status::bad_file;
  mixture_model& m = out->d.mixture;
  bool ok = true;
  m.means = file_data<float>(f, 0);
  m.precisions = file_data<float>(f, 1);
  m.constants = file_data<float>(f, 2);
  m.n_features = field(f, 0, UINT32_MAX, &ok);
  m.n_components = field(f, 1, UINT32_MAX, &ok);
  m.covariance = static_cast<uint8_t>(field(f, 2, UINT8_MAX, &ok));
  out->flag = field(f, 3, 1u, &ok) != 0u;
  if (!ok) return status::bad_table;
  return mixture_validate(m, f.tables[0].count, f.tables[1].count, f.tables[2].count);
}

inline status run_mixture(const mixture_model& m, bool envelope, const file_entry& e, const float* x, outputs o,
                          arena& a) {
  const uint8_t id = e.id;
  const bool one = e.kind == static_cast<uint8_t>(output_kind::values) && e.width == 1u;
  if (envelope) {
    if (id == static_cast<uint8_t>(entry_id::predict) && e.kind == static_cast<uint8_t>(output_kind::outlier)) {
      if (!a.ready()) return not_ready(a);
      o.ints[0] = envelope_predict(m, x);
    } else if (id == static_cast<uint8_t>(entry_id::decision_function) && one) {
      if (!a.ready()) return not_ready(a);
      o.values[0] = envelope_decision(m, x);
    } else if (id == static_cast<uint8_t>(entry_id::score_samples) && one) {
      if (!a.ready()) return not_ready(a);
      o.values[0] = envelope_score(m, x);
    } else {
      return no_entry();
    }
    return status::ok;
  }
  if (id == static_cast<uint8_t>(entry_id::predict) && e.kind == static_cast<uint8_t>(output_kind::label)) {
    float* log_prob = a.take<float>(m.n_components);
    if (!a.ready()) return not_ready(a);
    o.ints[0] = mixture_label(m, x, log_prob);
  } else if (id == static_cast<uint8_t>(entry_id::predict_proba) &&
             e.kind == static_cast<uint8_t>(output_kind::values) && e.width == m.n_components) {
    if (!a.ready()) return not_ready(a);
    mixture_proba(m, x, o.values);
  } else if (id == static_cast<uint8_t>(entry_id::score_samples) && one) {
    float* log_prob = a.take<float>(m.n_components);
    if (!a.ready()) return not_ready(a);
    o.values[0] = mixture_score(m, x, log_prob);
  } else {
    return no_entry();
  }
  return status::ok;
}

// ---- clusters ------------------------------------------------------------

inline status load_clusters(loaded_model* out) {
  const model_file& f = out->file;
  if (!layout_matches(f, "f", 2)) return status::bad_file;
  clusters_model& m = out->d.clusters;
  bool ok = true;
  m.centers = file_data<float>(f, 0);
  m.n_features = field(f, 0, UINT32_MAX, &ok);
  m.n_clusters = field(f, 1, UINT32_MAX, &ok);
  if (!ok) return status::bad_table;
  return clusters_validate(m, f.tables[0].count);
}

inline status run_clusters(const clusters_model& m, const file_entry& e, const float* x, outputs o, arena& a) {
  const bool values = e.kind == static_cast<uint8_t>(output_kind::values);
  if (e.id == static_cast<uint8_t>(entry_id::predict) && e.kind == static_cast<uint8_t>(output_kind::label)) {
    if (!a.ready()) return not_ready(a);
    o.ints[0] = clusters_label(m, x);
  } else if (e.id == static_cast<uint8_t>(entry_id::transform) && values && e.width == m.n_clusters) {
    if (!a.ready()) return not_ready(a);
    clusters_transform(m, x, o.values);
  } else if (e.id == static_cast<uint8_t>(entry_id::nearest_sq_distance) && values && e.width == 1u) {
    if (!a.ready()) return not_ready(a);
    o.values[0] = clusters_nearest_sq_distance(m, x);
  } else {
    return no_entry();
  }
  return status::ok;
}

// ---- transforms ----------------------------------------------------------

inline status load_transforms(loaded_model* out) {
  const model_file& f = out->file;
  if (!layout_matches(f, "bufuf", 4)) return status::bad_file;
  transforms_model& m = out->d.transforms;
  bool ok = true;
  m.ops = file_data<uint8_t>(f, 0);
  m.shapes = file_data<uint32_t>(f, 1);
  m.params = file_data<float>(f, 2);
  m.indices = file_data<uint32_t>(f, 3);
  m.quadratic = file_data<float>(f, 4);
  m.n_steps = field(f, 0, UINT32_MAX, &ok);
  m.n_features = field(f, 1, UINT32_MAX, &ok);
  m.n_outputs = field(f, 2, UINT32_MAX, &ok);
  m.max_width = field(f, 3, UINT32_MAX, &ok);
  if (!ok || m.max_width > UINT32_MAX / 2u) return status::bad_table;
  return transforms_validate(m, f.tables[0].count, f.tables[1].count, f.tables[2].count, f.tables[3].count,
                             f.tables[4].count);
}

// `has_score`: the quadratic table is not empty (a program ending in a PCA).
inline status run_transforms(const transforms_model& m, bool has_score, const file_entry& e, const float* x,
                             outputs o, arena& a) {
  const bool values = e.kind == static_cast<uint8_t>(output_kind::values);
  const bool transform = e.id == static_cast<uint8_t>(entry_id::transform) && values && e.width == m.n_outputs;
  const bool score = e.id == static_cast<uint8_t>(entry_id::score_samples) && values && e.width == 1u &&
                     has_score;
  if (!transform && !score) return no_entry();
  // Two rows between the steps and the buffers of its signal steps.
  const uint64_t floats = transforms_scratch_floats(m);
  if (floats > SIZE_MAX / sizeof(float)) return status::bad_table;
  float* scratch = floats ? a.take<float>(static_cast<size_t>(floats)) : static_cast<float*>(NULL);
  if (!a.ready()) return not_ready(a);
  if (transform) {
    transforms_run(m, x, o.values, scratch);
  } else {
    transforms_score_samples(m, x, o.values, scratch);
  }
  return status::ok;
}

// ---- dispatch ------------------------------------------------------------

inline status run_family(const loaded_model& m, const file_entry& e, const float* x, outputs o, arena& a) {
  switch (static_cast<model_family>(m.file.family)) {
    case model_family::trees: return run_trees(m, e, x, o, a);
    case model_family::linear: return run_linear(m.d.linear, e, x, o, a);
    case model_family::mlp:
      return m.file.real == static_cast<uint8_t>(real_type::float64) ? run_mlp_as(m.d.mlp64, e, x, o, a)
                                                                      : run_mlp_as(m.d.mlp32, e, x, o, a);
    case model_family::naive_bayes: return run_naive_bayes(m.d.naive_bayes, e, x, o, a);
    case model_family::svm:
      return m.file.real == static_cast<uint8_t>(real_type::float64) ? run_svm_as(m.d.svm64, e, x, o, a)
                                                                      : run_svm_as(m.d.svm32, e, x, o, a);
    case model_family::neighbors: return run_neighbors(m.d.neighbors, e, x, o, a);
    case model_family::mixture: return run_mixture(m.d.mixture, m.flag, e, x, o, a);
    case model_family::clusters: return run_clusters(m.d.clusters, e, x, o, a);
    case model_family::transforms: return run_transforms(m.d.transforms, m.file.tables[4].count != 0u, e, x, o, a);
  }
  return no_entry();
}

/// The entry point a file record asks for, as the family runs it: a
/// log_of_proba record runs predict_proba (then log_f, in run_entry).
inline file_entry family_entry(const file_entry& e) {
  file_entry base = e;
  if (e.flags & entry_flag_log_of_proba) {
    base.id = static_cast<uint8_t>(entry_id::predict_proba);
    base.flags = 0u;
  }
  return base;
}

inline uint32_t model_n_features(const loaded_model& m) {
  switch (static_cast<model_family>(m.file.family)) {
    case model_family::trees:
      return m.file.real == static_cast<uint8_t>(real_type::float64) ? m.d.trees64.n_features
                                                                      : m.d.trees32.n_features;
    case model_family::linear: return m.d.linear.n_features;
    case model_family::mlp:
      return m.file.real == static_cast<uint8_t>(real_type::float64) ? m.d.mlp64.n_features : m.d.mlp32.n_features;
    case model_family::naive_bayes: return m.d.naive_bayes.n_features;
    case model_family::svm:
      return m.file.real == static_cast<uint8_t>(real_type::float64) ? m.d.svm64.n_features : m.d.svm32.n_features;
    case model_family::neighbors: return m.d.neighbors.n_features;
    case model_family::mixture: return m.d.mixture.n_features;
    case model_family::clusters: return m.d.clusters.n_features;
    case model_family::transforms: return m.d.transforms.n_features;
  }
  return 0u;
}

inline status load_family(loaded_model* out) {
  switch (static_cast<model_family>(out->file.family)) {
    case model_family::trees: return load_trees(out);
    case model_family::linear: return load_linear(out);
    case model_family::mlp: return load_mlp(out);
    case model_family::naive_bayes: return load_naive_bayes(out);
    case model_family::svm: return load_svm(out);
    case model_family::neighbors: return load_neighbors(out);
    case model_family::mixture: return load_mixture(out);
    case model_family::clusters: return load_clusters(out);
    case model_family::transforms: return load_transforms(out);
  }
  return status::unsupported;
}

}  // namespace detail

/// Loads the model file in `buffer` (`size` bytes, 8-byte aligned, left
/// unchanged and alive as long as `out` is used) into `out`. Returns
/// status::ok only when every check passed: the frame (model_file_parse),
/// the family and its table format (status::unsupported where this runtime
/// reads another), the family's layout (status::bad_file), the family's
/// own validation of every table (its status: bad_table, size_mismatch,
/// bad_argument), and each entry point the file lists (status::bad_file
/// unless this model has it). out->file.problem says which check failed.
/// On failure `out` must not be run.
inline status model_load(const void* buffer, size_t size, loaded_model* out) {
  if (out == NULL) return status::bad_argument;
  memset(out, 0, sizeof *out);
  const status parsed = model_file_parse(buffer, size, &out->file);
  if (parsed != status::ok) return parsed;
  model_file& f = out->file;
  const int format = model_family_format(f.family);
  if (format < 0) return detail::file_refuse(&f, status::unsupported, file_problem::bad_family);
  if (f.real != static_cast<uint8_t>(real_type::float32) && f.real != static_cast<uint8_t>(real_type::float64)) {
    return detail::file_refuse(&f, status::unsupported, file_problem::bad_real);
  }
  if (static_cast<int>(f.table_format) != format) {
    return detail::file_refuse(&f, status::unsupported, file_problem::bad_format);
  }
  const status loaded = detail::load_family(out);
  if (loaded == status::bad_file) return detail::file_refuse(&f, status::bad_file, file_problem::bad_layout);
  if (loaded != status::ok) return detail::file_refuse(&f, loaded, file_problem::bad_tables);
  if (detail::model_n_features(*out) != f.n_features) {
    return detail::file_refuse(&f, status::bad_file, file_problem::bad_features);
  }
  for (uint8_t i = 0; i < f.n_entries; ++i) {
    const file_entry base = detail::family_entry(f.entries[i]);
    const bool log_ok = !(f.entries[i].flags & entry_flag_log_of_proba) ||
                        f.entries[i].kind == static_cast<uint8_t>(output_kind::values);
    detail::arena measure = {NULL, 0u, 0u, true};
    const detail::outputs none = {NULL, NULL, 0u};
    if (!log_ok || detail::run_family(*out, base, NULL, none, measure) != status::ok) {
      return detail::file_refuse(&f, status::bad_file, file_problem::bad_entry);
    }
  }
  return status::ok;
}

/// The record of entry point `id` in a loaded model, or NULL if it has none.
inline const file_entry* model_entry(const loaded_model& m, entry_id id) {
  for (uint8_t i = 0; i < m.file.n_entries; ++i) {
    if (m.file.entries[i].id == static_cast<uint8_t>(id)) return &m.file.entries[i];
  }
  return NULL;
}

/// Bytes of scratch entry point `id` of a loaded model needs (what a
/// generated header keeps on the stack), computed from the loaded
/// descriptor; 0 for an entry point the model does not have.
inline size_t model_scratch_bytes(const loaded_model& m, entry_id id) {
  const file_entry* e = model_entry(m, id);
  if (e == NULL) return 0u;
  detail::arena measure = {NULL, 0u, 0u, true};
  const detail::outputs none = {NULL, NULL, 0u};
  detail::run_family(m, detail::family_entry(*e), NULL, none, measure);
  return measure.used;
}

/// Runs entry point `id` of a loaded model on the row `x` (n_features
/// values). A label or outlier entry point writes ints[0]; an indicator
/// writes `width` ints; values write `width` floats to `values` (the
/// record's width, model_entry(m, id)->width). `scratch` (8-byte aligned)
/// holds at least model_scratch_bytes(m, id) bytes. Returns
/// status::unsupported for an entry point the model does not have,
/// bad_argument for a missing pointer, size_mismatch for too little scratch.
inline status model_run(const loaded_model& m, entry_id id, const float* x, float* values, int32_t* ints,
                        void* scratch, size_t scratch_bytes) {
  const file_entry* e = model_entry(m, id);
  if (e == NULL) return status::unsupported;
  const bool to_ints = e->kind != static_cast<uint8_t>(output_kind::values);
  if (x == NULL || (to_ints ? ints == NULL : values == NULL)) return status::bad_argument;
  detail::arena a = {static_cast<uint8_t*>(scratch), scratch != NULL ? scratch_bytes : 0u, 0u, false};
  const detail::outputs o = {values, ints, e->width};
  const status s = detail::run_family(m, detail::family_entry(*e), x, o, a);
  if (s == status::ok && (e->flags & entry_flag_log_of_proba)) {
    // As a generated header's predict_log_proba: log_f of each probability.
    for (uint32_t k = 0; k < e->width; ++k) values[k] = log_f(values[k]);
  }
  return s;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_LOADER_HPP
