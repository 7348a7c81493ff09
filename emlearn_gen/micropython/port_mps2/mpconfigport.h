/* MicroPython configuration of the bare-metal port for QEMU's MPS2 AN386
 * board (Cortex-M4F with a single-precision FPU).
 *
 * The point of this port is to run scripts and modules exactly as a
 * Cortex-M4F board would: float32 floats, armv7emsp native code in .mpy
 * files, bytecode .mpy files. Everything else (REPL, hardware, filesystem)
 * is left out; files are read from the host through semihosting. */
#include <stdint.h>

#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_BASIC_FEATURES)

/* Memory and the garbage collector. */
#define MICROPY_ENABLE_GC (1)
#define MICROPY_GCREGS_SETJMP (0)
#define MICROPY_ENABLE_FINALISER (0)
#define MICROPY_STACK_CHECK (1)
#define MICROPY_ALLOC_PATH_MAX (256)
#define MICROPY_ENABLE_EMERGENCY_EXCEPTION_BUF (1)
#define MICROPY_EMERGENCY_EXCEPTION_BUF_SIZE (256)

/* Compiler, .mpy loading and native code for this CPU (armv7emsp; armv6m
 * and armv7m code loads too: persistentcode.h accepts the older Thumb
 * architectures). */
#define MICROPY_ENABLE_COMPILER (1)
#define MICROPY_PERSISTENT_CODE_LOAD (1)
#define MICROPY_EMIT_THUMB (1)
#define MICROPY_EMIT_INLINE_THUMB (1)
#define MICROPY_EMIT_THUMB_ARMV7M (1)
#define MICROPY_EMIT_INLINE_THUMB_FLOAT (1)

/* Files: read through the POSIX calls, which newlib's librdimon turns into
 * semihosting calls on the host's files. */
#define MICROPY_READER_POSIX (1)
#define MICROPY_ENABLE_EXTERNAL_IMPORT (1)

/* Numbers: float32 as on the device; long integers for 32-bit checksums. */
#define MICROPY_FLOAT_IMPL (MICROPY_FLOAT_IMPL_FLOAT)
#define MICROPY_LONGINT_IMPL (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_PY_BUILTINS_FLOAT (1)
#define MICROPY_PY_MATH (1)
#define MICROPY_PY_MATH_SPECIAL_FUNCTIONS (1)
#define MICROPY_PY_CMATH (0)

/* Modules and built-ins scripts and models use. */
#define MICROPY_PY_ARRAY (1)
#define MICROPY_PY_ARRAY_SLICE_ASSIGN (1)
#define MICROPY_PY_STRUCT (1)
#define MICROPY_PY_GC (1)
#define MICROPY_PY_SYS (1)
#define MICROPY_PY_SYS_EXIT (1)
#define MICROPY_PY_SYS_MODULES (1)
#define MICROPY_PY_SYS_PATH (1)
#define MICROPY_PY_SYS_PLATFORM "mps2-an386"
#define MICROPY_PY_SYS_STDFILES (0)
#define MICROPY_PY_IO (1)
#define MICROPY_PY_IO_BYTESIO (1)
#define MICROPY_PY_MICROPYTHON (1)
#define MICROPY_PY_MICROPYTHON_MEM_INFO (1)
#define MICROPY_PY_BUILTINS_BYTEARRAY (1)
#define MICROPY_PY_BUILTINS_MEMORYVIEW (1)
#define MICROPY_PY_BUILTINS_SLICE_ATTRS (1)
#define MICROPY_PY_BUILTINS_STR_UNICODE (1)
#define MICROPY_PY_BUILTINS_ENUMERATE (1)
#define MICROPY_PY_BUILTINS_REVERSED (1)
#define MICROPY_PY_BUILTINS_MIN_MAX (1)
#define MICROPY_PY_BUILTINS_PROPERTY (1)
#define MICROPY_PY_BUILTINS_ROUND_INT (1)
#define MICROPY_PY_COLLECTIONS (1)
#define MICROPY_PY_FSTRINGS (1)
#define MICROPY_CPYTHON_COMPAT (1)
#define MICROPY_ERROR_REPORTING (MICROPY_ERROR_REPORTING_DETAILED)
#define MICROPY_ENABLE_SOURCE_LINE (1)
#define MICROPY_WARNINGS (1)
#define MICROPY_PY_ERRNO (0)
#define MICROPY_PY_SELECT (0)
#define MICROPY_PY_TIME (0)
#define MICROPY_PY_OS (0)
#define MICROPY_PY_RANDOM (0)
#define MICROPY_PY_JSON (0)
#define MICROPY_PY_RE (0)
#define MICROPY_PY_HEAPQ (0)
#define MICROPY_PY_HASHLIB (0)
#define MICROPY_PY_DEFLATE (0)
#define MICROPY_PY_BINASCII (0) /* this port's own binascii module: modbinascii.c */
#define MICROPY_PY_UCTYPES (0)
#define MICROPY_PY_ASYNCIO (0)
#define MICROPY_PY_FRAMEBUF (0)
#define MICROPY_PY_PLATFORM (0)
#define MICROPY_VFS (0)
#define MICROPY_HELPER_REPL (0)
#define MICROPY_KBD_EXCEPTION (0)

#define MICROPY_MAKE_POINTER_CALLABLE(p) ((void *)((mp_uint_t)(p) | 1))

#define MP_SSIZE_MAX (0x7fffffff)
typedef int32_t mp_int_t;
typedef uint32_t mp_uint_t;
typedef long mp_off_t;

#define MICROPY_HW_BOARD_NAME "MPS2 AN386 (QEMU)"
#define MICROPY_HW_MCU_NAME "Cortex-M4F"

#define MP_STATE_PORT MP_STATE_VM

#include <alloca.h>
