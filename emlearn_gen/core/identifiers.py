"""Checks on names that end up in generated C++.

A model's name becomes a namespace at global scope and part of the include
guard ``EMLEARN_GEN_MODEL_<name>_HPP``. Every name accepted here must compile
in a translation unit that includes the C headers the runtime and firmware
include; the lists below are the one place that says which names those take.
"""

from __future__ import annotations

import re
from typing import Dict, Optional

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

#: Longer names are refused: a namespace name is typed by people, and
#: compilers and debuggers handle very long symbols poorly.
MAX_LENGTH = 200

CPP_KEYWORDS = frozenset(
    """
    alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t
    char16_t char32_t class compl concept const consteval constexpr constinit const_cast
    continue co_await co_return co_yield decltype default delete do double dynamic_cast
    else enum explicit export extern false float for friend goto if inline int long
    mutable namespace new noexcept not not_eq nullptr operator or or_eq private protected
    public register reinterpret_cast requires return short signed sizeof static
    static_assert static_cast struct switch template this thread_local throw true try
    typedef typeid typename union unsigned using virtual void volatile wchar_t while xor
    xor_eq
    """.split()
)

# Names the generated header itself defines at namespace scope, or that the
# runtime and C++ own; a model namespace with one of these names would clash
# with them.
RESERVED = frozenset({"emlearn_gen", "std", "detail", "NULL", "main"})

#: The runtime's own names (namespace emlearn_gen, macros EMLEARN_GEN_...).
RUNTIME_PREFIX = "emlearn_gen"


def _words(text: str) -> frozenset:
    return frozenset(text.split())


def _with_float_variants(text: str) -> frozenset:
    """Math functions and their float (``sinf``) and long double (``sinl``) forms."""
    names = text.split()
    return frozenset(names + [n + "f" for n in names] + [n + "l" for n in names])


def _stdint_types() -> frozenset:
    widths = ("8", "16", "24", "32", "64")
    names = {f"{u}int{kind}{w}_t" for u in ("", "u") for kind in ("", "_least", "_fast") for w in widths}
    names |= {f"{u}int{w}_t" for u in ("", "u") for w in ("ptr", "max")}
    return frozenset(names)


# Global names declared (or object-like macros defined) by the C headers the
# runtime includes (<stdint.h>, <stddef.h>, <string.h>, <math.h>, and
# <avr/pgmspace.h> on AVR) and by those firmware commonly includes with it
# (<stdio.h>, <stdlib.h>, <limits.h>, <float.h>, <errno.h>, Arduino.h), in
# glibc, newlib and avr-libc. With glibc, g++ defines _GNU_SOURCE, so the GNU
# and POSIX extensions count too. A namespace of one of these names does not
# compile next to the header. Macro families (INT8_MAX, FLT_EPSILON, M_PI,
# ...) are covered by the prefix and suffix rules below instead.
C_LIBRARY_NAMES: Dict[str, frozenset] = {
    "<stdint.h>": _stdint_types(),
    "<stddef.h>": _words("size_t ptrdiff_t max_align_t nullptr_t wchar_t offsetof"),
    "<string.h>": _words(
        """
        memcpy memmove memset memcmp memchr memrchr rawmemchr memmem mempcpy memccpy
        strcpy strncpy strcat strncat strcmp strncmp strcoll strxfrm strchr strrchr
        strchrnul strspn strcspn strpbrk strstr strcasestr strtok strtok_r strerror
        strerror_r strlen strnlen strdup strndup stpcpy stpncpy strsep strsignal
        strcasecmp strncasecmp strlcpy strlcat strverscmp strfry memfrob basename
        bzero bcopy bcmp explicit_bzero index rindex ffs ffsl ffsll
        """
    ),
    "<math.h>": _with_float_variants(
        """
        acos asin atan atan2 cos sin tan acosh asinh atanh cosh sinh tanh exp exp2
        expm1 exp10 pow10 frexp ldexp log log10 log1p log2 logb modf scalbn scalbln
        scalb ilogb cbrt fabs hypot pow sqrt erf erfc lgamma lgamma_r tgamma gamma
        ceil floor nearbyint rint lrint llrint round lround llround trunc fmod
        remainder drem remquo copysign nan nextafter nexttoward fdim fmax fmin fma
        significand sincos j0 j1 jn y0 y1 yn finite isinf isnan isfinite signbit square
        """
    )
    | _words(
        """
        fpclassify isnormal isgreater isgreaterequal isless islessequal islessgreater
        isunordered issignaling iszero issubnormal iscanonical float_t double_t signgam
        math_errhandling INFINITY NAN HUGE MAXFLOAT
        """
    ),
    "<avr/pgmspace.h>": _words(
        """
        PROGMEM PGM_P PGM_VOID_P PSTR memcpy_P memcmp_P memchr_P memmem_P strcpy_P
        strncpy_P strcat_P strncat_P strcmp_P strncmp_P strcasecmp_P strncasecmp_P
        strchr_P strrchr_P strstr_P strlen_P strnlen_P strtok_P prog_char prog_uchar
        prog_int8_t prog_uint8_t prog_int16_t prog_uint16_t prog_int32_t prog_uint32_t
        prog_int64_t prog_uint64_t prog_void
        """
    ),
    "<stdio.h>": _words(
        """
        FILE fpos_t EOF BUFSIZ FILENAME_MAX FOPEN_MAX L_tmpnam L_ctermid L_cuserid
        P_tmpdir TMP_MAX stdin stdout stderr printf fprintf sprintf snprintf vprintf
        vfprintf vsprintf vsnprintf dprintf asprintf vasprintf scanf fscanf sscanf
        vscanf vfscanf vsscanf fopen freopen fdopen fclose fflush setbuf setvbuf
        setlinebuf fread fwrite fgetc getc getchar fgets fputc putc putchar fputs puts
        ungetc fseek fseeko ftell ftello rewind fgetpos fsetpos clearerr feof ferror
        perror remove rename renameat tmpfile tmpnam tempnam fileno popen pclose
        getline getdelim fmemopen open_memstream ctermid flockfile funlockfile getw putw
        """
    ),
    "<stdlib.h>": _words(
        """
        abort atexit at_quick_exit quick_exit exit getenv secure_getenv system malloc
        calloc realloc reallocarray free aligned_alloc posix_memalign valloc alloca
        atof atoi atol atoll strtod strtof strtold strtol strtoll strtoul strtoull
        strtodf rand rand_r srand random srandom initstate setstate drand48 erand48
        lrand48 nrand48 mrand48 jrand48 srand48 seed48 lcong48 qsort bsearch abs labs
        llabs div ldiv lldiv div_t ldiv_t lldiv_t mblen mbtowc wctomb mbstowcs wcstombs
        setenv unsetenv putenv clearenv mkstemp mkdtemp mktemp realpath ecvt fcvt gcvt
        getloadavg itoa ltoa utoa ultoa dtostrf dtostre WNOHANG WUNTRACED WSTOPPED
        WEXITED WCONTINUED WNOWAIT
        """
    ),
    # Included by <stdlib.h> in GNU modes (glibc, newlib).
    "<sys/types.h>": _words(
        """
        BIG_ENDIAN LITTLE_ENDIAN PDP_ENDIAN BYTE_ORDER FD_SETSIZE NFDBITS fd_set select
        pselect physadr quad quad_t u_char u_short u_int u_long ushort uint ulong
        caddr_t daddr_t dev_t ino_t mode_t nlink_t off_t pid_t ssize_t uid_t gid_t id_t
        key_t clock_t time_t timer_t clockid_t useconds_t suseconds_t register_t
        HAVE_INITFINI_ARRAY
        """
    ),
    "<limits.h>": _words("NZERO PIPE_BUF WORD_BIT MAX_CANON MAX_INPUT"),
    "<errno.h>": _words(
        """
        errno E2BIG EACCES EADDRINUSE EADDRNOTAVAIL EADV EAFNOSUPPORT EAGAIN EALREADY
        EBADE EBADF EBADFD EBADMSG EBADR EBADRQC EBADSLT EBFONT EBUSY ECANCELED ECHILD
        ECHRNG ECOMM ECONNABORTED ECONNREFUSED ECONNRESET EDEADLK EDEADLOCK
        EDESTADDRREQ EDOM EDOTDOT EDQUOT EEXIST EFAULT EFBIG EFTYPE EHOSTDOWN
        EHOSTUNREACH EHWPOISON EIDRM EILSEQ EINPROGRESS EINTR EINVAL EIO EISCONN EISDIR
        EISNAM EKEYEXPIRED EKEYREJECTED EKEYREVOKED EL2HLT EL2NSYNC EL3HLT EL3RST
        ELIBACC ELIBBAD ELIBEXEC ELIBMAX ELIBSCN ELNRNG ELOOP EMEDIUMTYPE EMFILE EMLINK
        EMSGSIZE EMULTIHOP ENAMETOOLONG ENAVAIL ENETDOWN ENETRESET ENETUNREACH ENFILE
        ENOANO ENOBUFS ENOCSI ENODATA ENODEV ENOENT ENOERR ENOEXEC ENOKEY ENOLCK ENOLINK
        ENOMEDIUM ENOMEM ENOMSG ENONET ENOPKG ENOPROTOOPT ENOSPC ENOSR ENOSTR ENOSYS
        ENOTBLK ENOTCONN ENOTDIR ENOTEMPTY ENOTNAM ENOTRECOVERABLE ENOTSOCK ENOTSUP
        ENOTTY ENOTUNIQ ENXIO EOPNOTSUPP EOVERFLOW EOWNERDEAD EPERM EPFNOSUPPORT EPIPE
        EPROTO EPROTONOSUPPORT EPROTOTYPE ERANGE EREMCHG EREMOTE EREMOTEIO ERESTART
        ERFKILL EROFS ESHUTDOWN ESOCKTNOSUPPORT ESPIPE ESRCH ESRMNT ESTALE ESTRPIPE
        ETIME ETIMEDOUT ETOOMANYREFS ETXTBSY EUCLEAN EUNATCH EUSERS EWOULDBLOCK EXDEV
        EXFULL
        """
    ),
    # Register and bit macros of <avr/io.h> (included by Arduino.h) that the
    # rules for device macros below do not cover.
    "<avr/io.h>": _words(
        """
        ADc5_BIT ADc5_DDR ADc5_PIN ADc5_PORT dW_BIT dW_DDR dW_PIN dW_PORT ED_MIN_PLUS_1dB
        RSSI_MIN_PLUS_3dB FUSE_Reserved POCRxRB POCRxRBH POCRxRBL P_ATmega128RFA1 Res Res0
        Res1 Res2 Res3 Res4 Res5 Res6 Res7 URxS0 URxS1 URxS2 URxS3 UTxS0 UTxS1 UTxS2 UTxS3
        lED30
        """
    ),
    "Arduino.h": _words(
        """
        HIGH LOW INPUT OUTPUT INPUT_PULLUP LED_BUILTIN PI HALF_PI TWO_PI DEG_TO_RAD
        RAD_TO_DEG EULER SERIAL DISPLAY LSBFIRST MSBFIRST CHANGE FALLING RISING
        DEFAULT EXTERNAL INTERNAL INTERNAL1V1 INTERNAL2V56 DEC HEX OCT BIN Serial
        String byte word boolean setup loop delay delayMicroseconds millis micros
        pinMode digitalWrite digitalRead analogRead analogWrite analogReference tone
        noTone shiftIn shiftOut pulseIn map randomSeed
        """
    ),
}

#: Object-like macros that compilers predefine outside strict ISO modes
#: (g++ and clang++ -std=gnu++11 on Linux, avr-g++ by default), and the
#: historical ones of other hosts.
PREDEFINED_MACROS = _words(
    "unix linux i386 i486 i586 i686 AVR sun sparc vax mips m68k mc68000 hppa ppc powerpc MIPSEB MIPSEL"
)

#: All-uppercase names with one of these prefixes belong to macro families of
#: the runtime and the C libraries (EMLEARN_GEN_VERSION, INT8_MAX, UINT64_C,
#: FLT_EPSILON, HUGE_VALF, FP_NAN, SIZE_MAX, CHAR_BIT, SEEK_SET, PRIX32, ...).
MACRO_PREFIXES = (
    "EMLEARN_GEN_",
    "INT",
    "UINT",
    "FLT_",
    "DBL_",
    "LDBL_",
    "DECIMAL_DIG",
    "HUGE_",
    "SNAN",
    "FP_",
    "MATH_",
    "SIZE_",
    "PTRDIFF_",
    "SIG_ATOMIC_",
    "WCHAR_",
    "WINT_",
    "CHAR_",
    "SCHAR_",
    "UCHAR_",
    "SHRT_",
    "USHRT_",
    "LONG_",
    "ULONG_",
    "LLONG_",
    "ULLONG_",
    "MB_",
    "NL_",
    "EXIT_",
    "RAND_",
    "SEEK_",
    "RENAME_",
    "DTOSTR_",
    "PTHREAD_",
    "SCHED_",
    "PRI",
    "SCN",
)
#: ... and so do all-uppercase names with one of these suffixes (<limits.h>
#: and <stdint.h> limits: PATH_MAX, SSIZE_MAX, BOOL_WIDTH, ...).
MACRO_SUFFIXES = ("_MAX", "_MIN", "_WIDTH")
#: <math.h> constants, in any case (glibc has M_PI, M_PIf, M_PIl, ...).
MATH_CONSTANT_PREFIX = "M_"

#: <inttypes.h> format macros (PRId32, SCNu8, ...), mixed-case so not caught above.
_FORMAT_MACRO = re.compile(r"(PRI|SCN)[diouxXn](8|16|32|64|LEAST\d+|FAST\d+|MAX|PTR)\Z")


#: Device headers name registers, bits and vectors with macros in capitals
#: (<avr/io.h>: ADC, PORTB, SP, TCCR0A; CMSIS device headers: GPIOA, SCB),
#: XMEGA's with a lower-case kind after them (AC_ENABLE_bm, ADCA_CH0_vect,
#: PORT_struct), so a name in capitals can be replaced by a macro on some
#: device. Model names need a lower-case letter outside such a suffix.
_DEVICE_MACRO = re.compile(r"[A-Z0-9_]+?(_(bm|bp|gm|gp|gc|struct))?\Z|[A-Za-z0-9_]+_vect(_num)?\Z")


def _header_of(name: str) -> Optional[str]:
    for header, names in C_LIBRARY_NAMES.items():
        if name in names:
            return header
    return None


def _is_macro_family(name: str) -> bool:
    if _FORMAT_MACRO.match(name) or name.startswith(MATH_CONSTANT_PREFIX):
        return True
    return name == name.upper() and (name.startswith(MACRO_PREFIXES) or name.endswith(MACRO_SUFFIXES))


def _reserved_reason(name: str) -> Optional[str]:
    """Why C++ reserves ``name`` (or the include guard made of it), if it does."""
    if name.startswith("_"):
        return "it starts with an underscore (reserved at global scope)"
    if "__" in name:
        return "it contains a double underscore (reserved everywhere)"
    if name.endswith("_"):
        return f"the include guard EMLEARN_GEN_MODEL_{name}_HPP would contain a double underscore"
    return None


def check_identifier(name: object, what: str = "name") -> str:
    """Returns ``name`` if it is a usable C++ identifier for a model, else
    raises ValueError saying why not and what to do."""
    if not isinstance(name, str):
        raise ValueError(f"{what} must be a string, got {type(name).__name__}")
    if len(name) > MAX_LENGTH:
        raise ValueError(f"{what} is {len(name)} characters long; use at most {MAX_LENGTH}")
    if not _IDENTIFIER.match(name):
        raise ValueError(
            f"{what} {name!r} is not a C++ identifier: use letters, digits and underscores, "
            "not starting with a digit (e.g. 'gesture_model')"
        )
    if name in CPP_KEYWORDS:
        raise ValueError(f"{what} {name!r} is a C++ keyword; choose another, e.g. '{name}_model'")
    if name in RESERVED or name.lower().startswith(RUNTIME_PREFIX):
        raise ValueError(
            f"{what} {name!r} is reserved by emlearn-gen or C++ (the runtime owns names starting "
            f"with {RUNTIME_PREFIX!r} in any case); choose another, e.g. 'gesture_model'"
        )
    reason = _reserved_reason(name)
    if reason is not None:
        raise ValueError(
            f"{what} {name!r} is reserved for the C++ implementation: {reason}; choose another "
            "that starts with a letter and has no double or trailing underscore"
        )
    header = _header_of(name)
    if header is not None:
        raise ValueError(
            f"{what} {name!r} is taken by {header}, which the runtime or firmware includes; the "
            f"model's namespace would clash with it: choose another, e.g. '{name}_model'"
        )
    if name in PREDEFINED_MACROS:
        raise ValueError(
            f"{what} {name!r} is a macro that compilers predefine (GNU modes such as "
            f"-std=gnu++11, avr-g++); choose another, e.g. '{name}_model'"
        )
    if _is_macro_family(name):
        raise ValueError(
            f"{what} {name!r} is in the name space of C library or runtime macros (M_..., and "
            "uppercase names starting with " + ", ".join(MACRO_PREFIXES[:6]) + ", ... or ending "
            "with " + ", ".join(MACRO_SUFFIXES) + "), where a macro would replace it; choose "
            f"another, e.g. '{name.lower()}_model'"
        )
    if _DEVICE_MACRO.match(name):
        raise ValueError(
            f"{what} {name!r} looks like a device register macro (names in capitals, such as "
            "ADC, PORTB or GPIOA, and ..._bm, ..._vect, are macros in <avr/io.h> and CMSIS "
            f"device headers); use a lower-case letter, e.g. '{name.lower()}_model'"
        )
    return name
