// Model files on the host: the numbers of the format (model_file.hpp) for
// Python's writer, and loading through the runtime's own loader
// (loader.hpp), so a file the host accepts is a file a device accepts.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "emlearn_gen/loader.hpp"
#include "host_model.hpp"

namespace py = pybind11;

namespace emlearn_gen_host {
namespace {

namespace eg = emlearn_gen;

// {name: number} of every number the writer needs, from the C++ enums.
py::dict model_file_ids() {
  py::dict families;
  families["trees"] = static_cast<int>(eg::model_family::trees);
  families["linear"] = static_cast<int>(eg::model_family::linear);
  families["mlp"] = static_cast<int>(eg::model_family::mlp);
  families["naive_bayes"] = static_cast<int>(eg::model_family::naive_bayes);
  families["svm"] = static_cast<int>(eg::model_family::svm);
  families["neighbors"] = static_cast<int>(eg::model_family::neighbors);
  families["mixture"] = static_cast<int>(eg::model_family::mixture);
  families["clusters"] = static_cast<int>(eg::model_family::clusters);
  families["transforms"] = static_cast<int>(eg::model_family::transforms);
  py::dict formats;
  for (const auto& item : families) {
    formats[item.first] = eg::model_family_format(static_cast<uint8_t>(item.second.cast<int>()));
  }
  py::dict elements;
  elements["uint8_t"] = static_cast<int>(eg::element_type::u8);
  elements["int8_t"] = static_cast<int>(eg::element_type::i8);
  elements["int16_t"] = static_cast<int>(eg::element_type::i16);
  elements["uint32_t"] = static_cast<int>(eg::element_type::u32);
  elements["float"] = static_cast<int>(eg::element_type::f32);
  elements["real64"] = static_cast<int>(eg::element_type::f64);
  py::dict outputs;
  outputs["label"] = static_cast<int>(eg::output_kind::label);
  outputs["outlier"] = static_cast<int>(eg::output_kind::outlier);
  outputs["values"] = static_cast<int>(eg::output_kind::values);
  outputs["indicator"] = static_cast<int>(eg::output_kind::indicator);
  py::dict entries;
  entries["predict"] = static_cast<int>(eg::entry_id::predict);
  entries["predict_proba"] = static_cast<int>(eg::entry_id::predict_proba);
  entries["predict_log_proba"] = static_cast<int>(eg::entry_id::predict_log_proba);
  entries["predict_joint_log_proba"] = static_cast<int>(eg::entry_id::predict_joint_log_proba);
  entries["decision_function"] = static_cast<int>(eg::entry_id::decision_function);
  entries["score_samples"] = static_cast<int>(eg::entry_id::score_samples);
  entries["transform"] = static_cast<int>(eg::entry_id::transform);
  entries["nearest_sq_distance"] = static_cast<int>(eg::entry_id::nearest_sq_distance);
  py::dict reals;
  reals["float32"] = static_cast<int>(eg::real_type::float32);
  reals["float64"] = static_cast<int>(eg::real_type::float64);
  py::dict ids;
  ids["magic"] = py::bytes(reinterpret_cast<const char*>(eg::model_file_magic), 4);
  ids["version"] = EMLEARN_GEN_MODEL_FILE_VERSION;
  ids["families"] = families;
  ids["formats"] = formats;
  ids["element_types"] = elements;
  ids["outputs"] = outputs;
  ids["entry_points"] = entries;
  ids["log_of_proba"] = static_cast<int>(eg::entry_flag_log_of_proba);
  ids["reals"] = reals;
  ids["header_bytes"] = eg::model_file_header_bytes;
  ids["max_entries"] = static_cast<int>(eg::model_file_max_entries);
  ids["max_fields"] = static_cast<int>(eg::model_file_max_fields);
  ids["max_tables"] = static_cast<int>(eg::model_file_max_tables);
  return ids;
}

py::dtype element_dtype(uint8_t type) {
  switch (static_cast<eg::element_type>(type)) {
    case eg::element_type::u8: return py::dtype::of<uint8_t>();
    case eg::element_type::i8: return py::dtype::of<int8_t>();
    case eg::element_type::i16: return py::dtype::of<int16_t>();
    case eg::element_type::u32: return py::dtype::of<uint32_t>();
    case eg::element_type::f32: return py::dtype::of<float>();
    case eg::element_type::f64: return py::dtype::of<double>();
  }
  throw std::logic_error("element type checked by model_file_parse");
}

// Loads `data` with model_load, exactly as a device does, and returns what
// the host model is built from: the family's tables (copies, in directory
// order), fields, entry-point records and the metadata. Raises ValueError
// naming the failed check.
py::dict load_model_file(const py::bytes& data) {
  const std::string bytes = data;
  // The loader reads the file in place and wants it 8-byte aligned.
  std::vector<uint64_t> buffer((bytes.size() + 7u) / 8u + 1u, 0u);
  if (!bytes.empty()) std::memcpy(buffer.data(), bytes.data(), bytes.size());
  eg::loaded_model model;
  const eg::status s = eg::model_load(buffer.data(), bytes.size(), &model);
  if (s != eg::status::ok) {
    std::string what = std::string("not a loadable model file: ") + eg::file_problem_text(model.file.problem);
    check_status(s, what);
  }
  const eg::model_file& f = model.file;
  py::list tables;
  for (uint8_t i = 0; i < f.n_tables; ++i) {
    const eg::file_table& t = f.tables[i];
    py::array a(element_dtype(t.type), std::vector<py::ssize_t>{static_cast<py::ssize_t>(t.count)});
    if (t.count) std::memcpy(a.mutable_data(), t.data, static_cast<size_t>(t.count) * eg::element_bytes(t.type));
    tables.append(a);
  }
  py::list fields, entries;
  py::dict scratch;  // {entry id: bytes of scratch model_run needs}
  for (uint8_t i = 0; i < f.n_fields; ++i) fields.append(f.fields[i]);
  for (uint8_t i = 0; i < f.n_entries; ++i) {
    const eg::file_entry& e = f.entries[i];
    entries.append(py::make_tuple(e.id, e.kind, e.flags, e.width));
    scratch[py::int_(e.id)] = eg::model_scratch_bytes(model, static_cast<eg::entry_id>(e.id));
  }
  py::dict out;
  out["family"] = f.family;
  out["real"] = f.real;
  out["table_format"] = f.table_format;
  out["n_features"] = f.n_features;
  out["tables"] = tables;
  out["fields"] = fields;
  out["entries"] = entries;
  out["scratch"] = scratch;
  out["metadata"] = py::bytes(static_cast<const char*>(f.metadata), f.metadata_size);
  return out;
}

void define_model_file(py::module_& m) {
  m.def("model_file_ids", &model_file_ids,
        "The numbers of the model file format (runtime model_file.hpp): magic, version, family ids, "
        "element types, outputs, entry points, and each family's table format.");
  m.def("load_model_file", &load_model_file, py::arg("data"),
        "Loads a model file with the runtime's model_load (every check a device makes) and returns its "
        "tables, fields, entry points, scratch bytes per entry point and metadata; raises ValueError "
        "naming the failed check.");
}

const module_part part("model_file", &define_model_file);

}  // namespace
}  // namespace emlearn_gen_host
