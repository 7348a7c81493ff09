// MicroPython native module emlearn_gen_rt: loads model files (the
// run-time format, docs/model-file.md) and runs them with the runtime's
// kernels, through its loader (emlg_rt_kernels.cpp).
//
//     import emlearn_gen_rt
//     m = emlearn_gen_rt.load(data)          # bytes of a model file
//     m = emlearn_gen_rt.load_file("m.emlg")
//     m.predict(x); m.predict_proba(x, out=buf); m.n_features; m.classes
//
// Memory: load() keeps a reference to the bytes it was given (the loaded
// model's tables point into them) and reads them in place where they are
// an immutable, 8-byte aligned bytes object; anything else (a bytearray
// the caller may change, a misaligned slice) is copied once. Each loaded
// model allocates, once, the loader's descriptor and one buffer for the
// largest scratch its entry points ask (model_scratch_bytes), a row and a
// result: calls allocate nothing beyond their result object (and nothing
// with out=).
#include "emlg_mpy.h"

size_t emlg_loader_model_bytes(void);
int emlg_loader_load(const void *buffer, size_t size, void *model, const char **problem);
uint32_t emlg_loader_n_features(const void *model);
int emlg_loader_entry(const void *model, uint8_t id, uint32_t *width);
size_t emlg_loader_scratch_bytes(const void *model, uint8_t id);
int emlg_loader_run(const void *model, uint8_t id, const float *x, float *values, int32_t *ints, void *scratch,
                size_t scratch_bytes);
const void *emlg_loader_metadata(const void *model, uint32_t *size);

// Entry-point ids (emlearn_gen::entry_id in model_file.hpp).
#define EMLG_RT_PREDICT 1
#define EMLG_RT_PREDICT_PROBA 2
#define EMLG_RT_PREDICT_LOG_PROBA 3
#define EMLG_RT_PREDICT_JOINT_LOG_PROBA 4
#define EMLG_RT_DECISION_FUNCTION 5
#define EMLG_RT_SCORE_SAMPLES 6
#define EMLG_RT_TRANSFORM 7
#define EMLG_RT_NEAREST_SQ_DISTANCE 8
#define EMLG_RT_N_IDS 8

typedef struct {
    mp_obj_base_t base;
    mp_obj_t data;        // the object whose bytes were loaded: kept alive
    void *copy;           // the copy the model reads instead, or NULL
    void *model;          // the loader's descriptor (emlearn_gen::loaded_model)
    void *work;           // scratch, then the row, then the results
    mp_obj_t classes;     // tuple of class labels, or None
    size_t scratch_bytes;
    float *row;           // inside work
    float *results;       // inside work: the widest result, as floats or int32s
    uint32_t n_features;
} emlg_rt_model_t;

// The type of loaded models; filled in by mpy_init (a native module cannot
// initialise a type statically). It holds no pointer to the GC heap.
mp_obj_full_type_t emlg_rt_model_type;

static size_t emlg_rt_align8(size_t n) {
    return (n + 7u) & ~(size_t)7u;
}

static void *emlg_rt_alloc(size_t n) {
    void *p = m_malloc(n ? n : 1u);
    if (p == NULL) {
        mp_raise_msg((const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_MemoryError)), "emlearn_gen_rt: not enough memory for the model");
    }
    return p;
}

// The class labels from the file's metadata (JSON the host wrote), through
// MicroPython's json module; None where the model has none.
static mp_obj_t emlg_rt_classes(const void *model) {
    uint32_t size;
    const void *metadata = emlg_loader_metadata(model, &size);
    if (metadata == NULL) {
        return mp_const_none;
    }
    mp_obj_t json = mp_import_name(MP_QSTR_json, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    mp_obj_t text = mp_obj_new_bytes((const byte *)metadata, size);
    mp_obj_t parsed = mp_call_function_n_kw(mp_load_attr(json, MP_QSTR_loads), 1, 0, &text);
    mp_obj_t key = MP_OBJ_NEW_QSTR(MP_QSTR_classes);
    mp_obj_t labels = mp_call_function_n_kw(mp_load_attr(parsed, MP_QSTR_get), 1, 0, &key);
    if (labels == mp_const_none) {
        return mp_const_none;
    }
    mp_obj_t values = mp_obj_subscr(labels, MP_OBJ_NEW_QSTR(MP_QSTR_values), MP_OBJ_SENTINEL);
    size_t n;
    mp_obj_t *items;
    mp_obj_get_array(values, &n, &items);
    return mp_obj_new_tuple(n, items);
}

// The bytes of `data` as the loader needs them: in place where they are
// an immutable bytes object 8-byte aligned, else a copy (returned in *copy).
static const void *emlg_rt_file_bytes(mp_obj_t data, size_t *size, void **copy) {
    mp_buffer_info_t info;
    if (mp_obj_get_type(data) == &mp_type_str || !mp_get_buffer(data, &info, MP_BUFFER_READ)) {
        mp_raise_TypeError("load takes the bytes of a model file (bytes, bytearray or memoryview); "
                           "load_file(path) reads a file");
    }
    *size = info.len;
    *copy = NULL;
    if (mp_obj_get_type(data) == &mp_type_bytes && ((uintptr_t)info.buf & 7u) == 0u) {
        return info.buf;
    }
    *copy = emlg_rt_alloc(info.len);
    memcpy(*copy, info.buf, info.len);
    return *copy;
}

static mp_obj_t emlg_rt_load(mp_obj_t data) {
    emlg_rt_model_t *self = mp_obj_malloc(emlg_rt_model_t, (mp_obj_type_t *)&emlg_rt_model_type);
    self->data = data;
    self->classes = mp_const_none;
    size_t size;
    const void *file = emlg_rt_file_bytes(data, &size, &self->copy);
    self->model = emlg_rt_alloc(emlg_rt_align8(emlg_loader_model_bytes()));
    const char *problem;
    if (emlg_loader_load(file, size, self->model, &problem) != 0) {
        char message[200];
        size_t at = emlg_append(message, 0, sizeof message, "not a loadable model file: ");
        at = emlg_append(message, at, sizeof message, problem);
        mp_raise_dyn(mp_obj_new_exception_arg1(&mp_type_ValueError, mp_obj_new_str(message, at)));
    }
    // One buffer for the largest scratch and result any entry point needs.
    size_t width = 1u;
    self->scratch_bytes = 0u;
    for (uint8_t id = 1; id <= EMLG_RT_N_IDS; ++id) {
        uint32_t w = 0u;
        if (emlg_loader_entry(self->model, id, &w) != 0) {
            size_t need = emlg_loader_scratch_bytes(self->model, id);
            self->scratch_bytes = need > self->scratch_bytes ? need : self->scratch_bytes;
            width = w > width ? w : width;
        }
    }
    self->n_features = emlg_loader_n_features(self->model);
    size_t scratch = emlg_rt_align8(self->scratch_bytes);
    size_t row = emlg_rt_align8(self->n_features * sizeof(float));
    self->work = emlg_rt_alloc(scratch + row + width * sizeof(float));
    self->row = (float *)((uint8_t *)self->work + scratch);
    self->results = (float *)((uint8_t *)self->work + scratch + row);
    self->classes = emlg_rt_classes(self->model);
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_1(emlg_rt_load_obj, emlg_rt_load);

static mp_obj_t emlg_rt_load_file(mp_obj_t path) {
    mp_obj_t args[2];
    args[0] = path;
    args[1] = MP_OBJ_NEW_QSTR(MP_QSTR_rb);
    mp_obj_t file = mp_call_function_n_kw(mp_load_global(MP_QSTR_open), 2, 0, args);
    mp_obj_t data = mp_call_function_n_kw(mp_load_attr(file, MP_QSTR_read), 0, 0, NULL);
    mp_call_function_n_kw(mp_load_attr(file, MP_QSTR_close), 0, 0, NULL);
    return emlg_rt_load(data);
}
static MP_DEFINE_CONST_FUN_OBJ_1(emlg_rt_load_file_obj, emlg_rt_load_file);

// Runs entry point `id` of a loaded model: a method call (self, x, out=).
static mp_obj_t emlg_rt_call(size_t n_args, const mp_obj_t *args, mp_map_t *kw, uint8_t id) {
    emlg_rt_model_t *self = MP_OBJ_TO_PTR(args[0]);
    mp_obj_t out;
    const float *x = emlg_row(emlg_parse_call(n_args, args, kw, 1u, &out), self->row, self->n_features);
    uint32_t width = 0u;
    const int kind = emlg_loader_entry(self->model, id, &width);
    int32_t label = 0;
    float *values = NULL;
    int32_t *ints = &label;
    if (kind == EMLG_VALUES) {
        values = (float *)emlg_out_buffer(out, width, 'f');
    } else if (kind == EMLG_INDICATOR) {
        ints = (int32_t *)emlg_out_buffer(out, width, 'i');
    } else if (out != MP_OBJ_NULL && out != mp_const_none) {
        mp_raise_TypeError("this method returns one label or flag; out= is for the methods with vector results");
    }
    if (kind == EMLG_VALUES && values == NULL) {
        values = self->results;
    }
    if (kind == EMLG_INDICATOR && ints == NULL) {
        ints = (int32_t *)self->results;
    }
    if (emlg_loader_run(self->model, id, x, values, ints, self->work, self->scratch_bytes) != 0) {
        // Cannot happen for a loaded model with the scratch load() sized; a
        // wrong answer must not pass silently if it ever does.
        mp_raise_msg(&mp_type_RuntimeError, "emlearn_gen_rt: the loader refused to run this entry point");
    }
    if (kind == EMLG_VALUES) {
        return emlg_values_result(out, values, width);
    }
    if (kind == EMLG_INDICATOR) {
        return (out != MP_OBJ_NULL && out != mp_const_none) ? out : emlg_new_array('i', ints, width);
    }
    if (kind == EMLG_LABEL && self->classes != mp_const_none) {
        return mp_obj_subscr(self->classes, MP_OBJ_NEW_SMALL_INT(label), MP_OBJ_SENTINEL);
    }
    return MP_OBJ_NEW_SMALL_INT(label);
}

#define EMLG_RT_METHOD(name, id)                                                      \
    static mp_obj_t emlg_rt_##name(size_t n_args, const mp_obj_t *args, mp_map_t *kw) { \
        return emlg_rt_call(n_args, args, kw, id);                                     \
    }                                                                                  \
    static MP_DEFINE_CONST_FUN_OBJ_KW(emlg_rt_##name##_obj, 2, emlg_rt_##name);

EMLG_RT_METHOD(predict, EMLG_RT_PREDICT)
EMLG_RT_METHOD(predict_proba, EMLG_RT_PREDICT_PROBA)
EMLG_RT_METHOD(predict_log_proba, EMLG_RT_PREDICT_LOG_PROBA)
EMLG_RT_METHOD(predict_joint_log_proba, EMLG_RT_PREDICT_JOINT_LOG_PROBA)
EMLG_RT_METHOD(decision_function, EMLG_RT_DECISION_FUNCTION)
EMLG_RT_METHOD(score_samples, EMLG_RT_SCORE_SAMPLES)
EMLG_RT_METHOD(transform, EMLG_RT_TRANSFORM)
EMLG_RT_METHOD(nearest_sq_distance, EMLG_RT_NEAREST_SQ_DISTANCE)

// The method object and entry-point id of attribute `attr`, or NULL.
static const mp_obj_fun_builtin_var_t *emlg_rt_method(qstr attr, uint8_t *id) {
    if (attr == MP_QSTR_predict) {
        *id = EMLG_RT_PREDICT;
        return &emlg_rt_predict_obj;
    } else if (attr == MP_QSTR_predict_proba) {
        *id = EMLG_RT_PREDICT_PROBA;
        return &emlg_rt_predict_proba_obj;
    } else if (attr == MP_QSTR_predict_log_proba) {
        *id = EMLG_RT_PREDICT_LOG_PROBA;
        return &emlg_rt_predict_log_proba_obj;
    } else if (attr == MP_QSTR_predict_joint_log_proba) {
        *id = EMLG_RT_PREDICT_JOINT_LOG_PROBA;
        return &emlg_rt_predict_joint_log_proba_obj;
    } else if (attr == MP_QSTR_decision_function) {
        *id = EMLG_RT_DECISION_FUNCTION;
        return &emlg_rt_decision_function_obj;
    } else if (attr == MP_QSTR_score_samples) {
        *id = EMLG_RT_SCORE_SAMPLES;
        return &emlg_rt_score_samples_obj;
    } else if (attr == MP_QSTR_transform) {
        *id = EMLG_RT_TRANSFORM;
        return &emlg_rt_transform_obj;
    } else if (attr == MP_QSTR_nearest_sq_distance) {
        *id = EMLG_RT_NEAREST_SQ_DISTANCE;
        return &emlg_rt_nearest_sq_distance_obj;
    }
    return NULL;
}

// Attributes of a loaded model: its entry points (only those it has, as a
// model module's functions), n_features and classes (where it has them).
static void emlg_rt_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] != MP_OBJ_NULL) {
        return;  // no attribute can be stored or deleted
    }
    emlg_rt_model_t *self = MP_OBJ_TO_PTR(self_in);
    if (attr == MP_QSTR_n_features) {
        dest[0] = mp_obj_new_int_from_uint(self->n_features);
        return;
    }
    if (attr == MP_QSTR_classes) {
        if (self->classes != mp_const_none) {
            dest[0] = self->classes;
        }
        return;
    }
    uint8_t id = 0;
    const mp_obj_fun_builtin_var_t *method = emlg_rt_method(attr, &id);
    uint32_t width;
    if (method != NULL && emlg_loader_entry(self->model, id, &width) != 0) {
        dest[0] = MP_OBJ_FROM_PTR(method);
        dest[1] = self_in;
    }
}

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    emlg_init_array_type();
    emlg_rt_model_type.base.type = (void *)&mp_type_type;
    emlg_rt_model_type.flags = MP_TYPE_FLAG_NONE;
    emlg_rt_model_type.name = MP_QSTR_Model;
    MP_OBJ_TYPE_SET_SLOT(&emlg_rt_model_type, attr, emlg_rt_attr, 0);
    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&emlg_rt_load_obj));
    mp_store_global(MP_QSTR_load_file, MP_OBJ_FROM_PTR(&emlg_rt_load_file_obj));
    MP_DYNRUNTIME_INIT_EXIT
}
