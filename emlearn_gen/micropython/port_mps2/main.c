/* A bare-metal MicroPython for QEMU's MPS2 AN386 board (Cortex-M4F).
 *
 * It runs one script, main_script.py, from the folder QEMU was started in
 * and exits through semihosting with the script's status: 0 when it ends,
 * the code of sys.exit(), or 1 after printing the traceback of an uncaught
 * exception. Standard output, imports (.py and .mpy, bytecode or native
 * armv7emsp/armv7m/armv6m code) and open() for reading all go through
 * semihosting to the host's files (newlib's librdimon implements open, read
 * and write with semihosting calls). */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "py/builtin.h"
#include "py/compile.h"
#include "py/gc.h"
#include "py/lexer.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/objstringio.h"
#include "py/runtime.h"
#include "py/stackctrl.h"
#include "shared/runtime/gchelper.h"

/* Memory: the linker script places the stack at the top of RAM. */
extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[], _sstack[];

#define HEAP_BYTES (3u * 1024u * 1024u)
static uint8_t heap[HEAP_BYTES] __attribute__((aligned(8)));

void initialise_monitor_handles(void);

/* ------------------------------------------------------------------------
 * Standard output: buffered by line so that each line is one semihosting
 * call rather than one per character. */

static char out_line[256];
static size_t out_len = 0;

static void out_flush(void) {
    if (out_len != 0) {
        write(1, out_line, out_len);
        out_len = 0;
    }
}

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    for (size_t i = 0; i < len; ++i) {
        out_line[out_len++] = str[i];
        if (str[i] == '\n' || out_len == sizeof out_line) {
            out_flush();
        }
    }
    return len;
}

void mp_hal_stdout_tx_strn_cooked(const char *str, size_t len) {
    mp_hal_stdout_tx_strn(str, len);
}

void mp_hal_stdout_tx_str(const char *str) {
    mp_hal_stdout_tx_strn(str, strlen(str));
}

int mp_hal_stdin_rx_chr(void) {
    return -1; /* scripts come from files; there is no console input */
}

static void finish(int status) __attribute__((noreturn));
static void finish(int status) {
    out_flush();
    _exit(status);
}

/* ------------------------------------------------------------------------
 * Files through semihosting. */

mp_import_stat_t mp_import_stat(const char *path) {
    /* Semihosting cannot tell folders from files; packages are not
     * supported, so every path that opens is a file. */
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        return MP_IMPORT_STAT_NO_EXIST;
    }
    close(fd);
    return MP_IMPORT_STAT_FILE;
}

/* open(path, mode="r"): the whole file read into an io.BytesIO ("rb") or
 * io.StringIO ("r"); files can be read, not written. */
static mp_obj_t port_open(size_t n_args, const mp_obj_t *args) {
    const char *path = mp_obj_str_get_str(args[0]);
    const char *mode = n_args > 1 ? mp_obj_str_get_str(args[1]) : "r";
    if (strchr(mode, 'w') || strchr(mode, 'a') || strchr(mode, '+') || strchr(mode, 'x')) {
        mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("files on this port can only be read"));
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        mp_raise_OSError(MP_ENOENT);
    }
    vstr_t data;
    vstr_init(&data, 256);
    for (;;) {
        char *chunk = vstr_add_len(&data, 1024);
        int n = read(fd, chunk, 1024);
        if (n < 0) {
            close(fd);
            mp_raise_OSError(MP_EIO);
        }
        vstr_cut_tail_bytes(&data, 1024 - n);
        if (n == 0) {
            break;
        }
    }
    close(fd);
    const mp_obj_type_t *type = strchr(mode, 'b') ? &mp_type_bytesio : &mp_type_stringio;
    mp_obj_t contents = strchr(mode, 'b') ? mp_obj_new_bytes_from_vstr(&data) : mp_obj_new_str_from_vstr(&data);
    return mp_call_function_1(MP_OBJ_FROM_PTR(type), contents);
}
MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mp_builtin_open_obj, 1, 2, port_open);

/* ------------------------------------------------------------------------
 * Garbage collection and fatal errors. */

void gc_collect(void) {
    gc_collect_start();
    gc_helper_collect_regs_and_stack();
    gc_collect_end();
}

void nlr_jump_fail(void *val) {
    (void)val;
    mp_hal_stdout_tx_str("FATAL: uncaught NLR\n");
    finish(3);
}

void NORETURN __fatal_error(const char *msg) {
    mp_hal_stdout_tx_str(msg);
    finish(3);
}

/* ------------------------------------------------------------------------
 * Running the script. */

/* The exit status of an uncaught exception: SystemExit's code, else 1
 * after printing the traceback. */
static int exit_status_of(mp_obj_t exc) {
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc)), MP_OBJ_FROM_PTR(&mp_type_SystemExit))) {
        mp_obj_t code = mp_obj_exception_get_value(exc);
        if (code == mp_const_none) {
            return 0;
        }
        if (mp_obj_is_small_int(code)) {
            return (int)MP_OBJ_SMALL_INT_VALUE(code);
        }
        mp_obj_print(code, PRINT_STR);
        mp_hal_stdout_tx_str("\n");
        return 1;
    }
    mp_obj_print_exception(&mp_plat_print, exc);
    return 1;
}

static int run_script(const char *name) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_lexer_t *lex = mp_lexer_new_from_file(qstr_from_str(name));
        qstr source_name = lex->source_name;
        mp_parse_tree_t tree = mp_parse(lex, MP_PARSE_FILE_INPUT);
        mp_obj_t module_fun = mp_compile(&tree, source_name, false);
        mp_call_function_0(module_fun);
        nlr_pop();
        return 0;
    }
    return exit_status_of(MP_OBJ_FROM_PTR(nlr.ret_val));
}

int main(void) {
    mp_stack_set_top(_estack);
    mp_stack_set_limit((char *)_estack - (char *)_sstack - 1024);
    gc_init(heap, heap + sizeof heap);
    mp_init();
    int status = run_script("main_script.py");
    gc_sweep_all();
    mp_deinit();
    finish(status);
}

/* ------------------------------------------------------------------------
 * Start-up: vector table and reset handler. */

void port_reset(void) __attribute__((noreturn));
void port_fault(void) __attribute__((noreturn));

void port_reset(void) {
    const uint32_t *src = _sidata;
    for (uint32_t *dst = _sdata; dst < _edata; ++dst) {
        *dst = *src++;
    }
    for (uint32_t *dst = _sbss; dst < _ebss; ++dst) {
        *dst = 0u;
    }
    /* CPACR: full access to coprocessors 10 and 11, the FPU. */
    *(volatile uint32_t *)0xE000ED88u |= (0xFu << 20);
    __asm__ volatile ("dsb\n\tisb" ::: "memory");
    initialise_monitor_handles();
    main();
    finish(0);
}

void port_fault(void) {
    mp_hal_stdout_tx_str("\nFAULT: the CPU took an exception (hard fault)\n");
    finish(99);
}

/* Newlib calls these from code the port does not use; they must exist. */
void _init(void) {
}
void _fini(void) {
}

typedef void (*handler_t)(void);
__attribute__((section(".isr_vector"), used)) const void *const vectors[16] = {
    _estack, (const void *)port_reset, (const void *)port_fault, (const void *)port_fault,
    (const void *)port_fault, (const void *)port_fault, (const void *)port_fault, 0, 0, 0, 0,
    (const void *)port_fault, (const void *)port_fault, 0, (const void *)port_fault,
    (const void *)port_fault,
};
