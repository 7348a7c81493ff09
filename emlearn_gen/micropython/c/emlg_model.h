// The model module's calls (a generated module.c includes this after
// defining EMLG_N_FEATURES, EMLG_MAX_WIDTH and EMLG_HAS_CLASSES).
//
// Module functions are made with MP_DYNRUNTIME_MAKE_FUNCTION: called as
// f(self, n_args, n_kw, args), with `self` the function object, whose
// context holds the module's globals (where `classes` lives: a C variable
// would be no GC root).
#ifndef EMLG_MODEL_H
#define EMLG_MODEL_H

// Results of the vector entry points when the caller gives no out=: the
// module's own, written by the kernel and copied into the new array.
union emlg_results_t {
    float values[EMLG_MAX_WIDTH];
    int32_t ints[EMLG_MAX_WIDTH];
};
union emlg_results_t emlg_results;

// x, and out= (second positional or keyword), of a module function's call.
static inline mp_obj_t emlg_args(size_t n_args, size_t n_kw, mp_obj_t *args, mp_obj_t *out) {
    *out = MP_OBJ_NULL;
    if (n_args < 1u || n_args > 2u) {
        mp_raise_TypeError("takes one row x and an optional out=");
    }
    if (n_args == 2u) {
        *out = args[1];
    }
    for (size_t i = 0; i < n_kw; ++i) {
        if (args[n_args + 2u * i] != MP_OBJ_NEW_QSTR(MP_QSTR_out) || *out != MP_OBJ_NULL) {
            mp_raise_TypeError("the only keyword argument is out=, given once");
        }
        *out = args[n_args + 2u * i + 1u];
    }
    return args[0];
}

static inline size_t emlg_strlen(const char *text) {
    size_t n = 0;
    while (text[n] != '\0') {
        ++n;
    }
    return n;
}

// A class label that is an int, from its digits (exact however wide the port's ints are).
static inline mp_obj_t emlg_int_of(const char *digits) {
    mp_obj_t text = mp_obj_new_str(digits, emlg_strlen(digits));
    return mp_call_function_n_kw(mp_load_global(MP_QSTR_int), 1, 0, &text);
}

// A class label that is a float, from its repr.
static inline mp_obj_t emlg_float_of(const char *text) {
    mp_obj_t arg = mp_obj_new_str(text, emlg_strlen(text));
    return mp_call_function_n_kw(mp_load_global(MP_QSTR_float), 1, 0, &arg);
}

static inline void emlg_no_out(mp_obj_t out) {
    if (out != MP_OBJ_NULL && out != mp_const_none) {
        mp_raise_TypeError("this method returns one label or flag; out= is for the methods with vector results");
    }
}

// A label (an index into classes) or an outlier flag (+1/-1) as Python sees it.
static inline mp_obj_t emlg_int_result(mp_obj_fun_bc_t *self, int kind, int32_t value) {
#if EMLG_HAS_CLASSES
    if (kind == EMLG_LABEL) {
        mp_obj_t classes = mp_obj_subscr(MP_OBJ_FROM_PTR(self->context->module.globals),
                                         MP_OBJ_NEW_QSTR(MP_QSTR_classes), MP_OBJ_SENTINEL);
        return mp_obj_subscr(classes, MP_OBJ_NEW_SMALL_INT(value), MP_OBJ_SENTINEL);
    }
#else
    (void)self;
    (void)kind;
#endif
    return MP_OBJ_NEW_SMALL_INT(value);
}

#endif  // EMLG_MODEL_H
