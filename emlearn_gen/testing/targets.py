"""Build-and-run targets for generated headers: the host compilers and three
emulated microcontrollers.

A target turns the sources of a test program (see ``harness``) into an image,
runs it and returns what the program printed through ``eg_putc``:

* ``HostTarget``: g++ or clang++, run natively;
* ``CortexMTarget``: arm-none-eabi-g++ with a bare-metal start-up and linker
  script, run on ``qemu-system-arm`` with semihosting (``cortex-m0`` on the
  micro:bit machine, ``cortex-m4f`` on MPS2 AN386); inputs are streamed from a
  host file, so one image serves any number of rows;
* ``AvrTarget``: avr-g++ for the ATmega2560, run on ``simavr``; inputs are
  compiled into program memory, in chunks that fit.

Images that do not fit the device's memory raise :class:`DoesNotFit` with the
number of bytes over, instead of the linker's own report.

Paths: folders, images, objects and include folders given to a target are
relative to the current folder, as for ``open()``; source file names are
relative to the build folder. Tools run inside the build folder, so every
path is made absolute (:func:`_absolute`) before it goes on a command line:
a relative one would be resolved a second time from there.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

#: The flags generated code must compile cleanly under.
STRICT_FLAGS: Tuple[str, ...] = (
    "-Wall",
    "-Wextra",
    "-Wpedantic",
    "-Wdouble-promotion",
    "-Wshadow",
    "-Werror",
    "-fno-exceptions",
    "-fno-rtti",
)

#: Flags of every device build: no FMA contraction (results stay bit-equal to
#: the host, which never contracts), and sections the linker can drop.
DEVICE_FLAGS: Tuple[str, ...] = ("-ffp-contract=off", "-ffunction-sections", "-fdata-sections")

SUPPORT_DIR = Path(__file__).resolve().parent / "support"

KIB = 1024


class ToolchainMissing(RuntimeError):
    """A compiler or emulator a target needs is not installed."""


class BuildFailed(RuntimeError):
    """The generated code or the harness did not compile or link."""


class RunFailed(BuildFailed):
    """The test program built but crashed, hung or failed on the target."""


class DoesNotFit(BuildFailed):
    """The model (with the smallest test program) is larger than the device.

    ``region`` names the memory ("flash", "RAM", ...) and ``bytes_over`` says
    by how much it was exceeded.
    """

    def __init__(self, message: str, region: str, bytes_over: int) -> None:
        super().__init__(message)
        self.region = region
        self.bytes_over = bytes_over


def _absolute(path: Union[str, Path]) -> Path:
    """``path`` made absolute from the current folder, for command lines run
    in another folder."""
    return Path(path).resolve()


def _include_flags(include_dirs: Sequence[str]) -> List[str]:
    return [f"-I{_absolute(d)}" for d in include_dirs]


def require_tools(tools: Dict[str, str]) -> None:
    """Raises ToolchainMissing naming the Debian packages for missing tools.

    ``tools`` maps an executable to the Debian package that provides it.
    """
    missing = {exe: pkg for exe, pkg in tools.items() if shutil.which(exe) is None}
    if missing:
        packages = " ".join(sorted(set(missing.values())))
        raise ToolchainMissing(
            f"missing {', '.join(sorted(missing))}: install with `apt-get install {packages}`"
        )


def run_command(cmd: Sequence[str], cwd: Path, timeout: float, what: str) -> str:
    try:
        proc = subprocess.run(
            list(cmd), cwd=str(cwd), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildFailed(f"{what} did not finish within {timeout:g} s: {' '.join(cmd)}") from exc
    if proc.returncode != 0:
        raise BuildFailed(
            f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-4000:]}{proc.stderr[-8000:]}"
        )
    return proc.stdout


def _run(
    cmd: Sequence[str], cwd: Path, timeout: float, what: str, error: type = BuildFailed
) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            list(cmd), cwd=str(cwd), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        raise error(
            f"{what} did not finish within {timeout:g} s: {' '.join(cmd)}\noutput so far ends with:\n{out[-2000:]}"
        ) from exc


@dataclass(frozen=True)
class HostTarget:
    """The header compiled by a host C++ compiler and run natively."""

    compiler: str = "g++"
    std: str = "c++11"
    opt: str = "-O2"
    extra_flags: Tuple[str, ...] = field(default_factory=tuple)

    input_mode = "table"

    @property
    def name(self) -> str:
        return f"host-{self.compiler}-{self.std}"

    def check_tools(self) -> None:
        package = "clang" if "clang" in self.compiler else "g++"
        require_tools({self.compiler: package})

    def prelude(self) -> str:
        return "#include <stdio.h>\nstatic void eg_putc(char c) { putchar(c); }"

    def exit_code(self) -> str:
        return "return 0;"

    def build_and_run(self, workdir: Path, sources: List[str], include_dirs: List[str], timeout: float) -> str:
        """Compiles ``sources`` (file names in ``workdir``) into a program in
        ``workdir`` and returns what it printed."""
        self.check_tools()
        workdir = _absolute(workdir)
        exe = workdir / "model_test"
        cmd = [self.compiler, f"-std={self.std}", self.opt, *STRICT_FLAGS, *self.extra_flags]
        cmd += _include_flags(include_dirs)
        cmd += sources + ["-o", str(exe)]
        run_command(cmd, workdir, timeout, f"compiling with {self.compiler} -std={self.std}")
        return run_command([str(exe)], workdir, timeout, "running the test program")


# --------------------------------------------------------------------------
# Devices


@dataclass(frozen=True)
class Memory:
    """Sizes of a device's memories, in bytes."""

    flash: int
    ram: int
    stack_reserve: int  # RAM kept free for the stack when checking a link


_OVERFLOW = re.compile(r"region [`']?(\w+)'? overflowed by (\d+) bytes")
# Older GNU ld (binutils-avr 2.26) names the address instead of the overshoot.
_NOT_WITHIN = re.compile(r"address (0x[0-9a-fA-F]+) of \S+ section [`'][^']+' is not within region [`'](\w+)'")
_ARRAY_TOO_LARGE = re.compile(r"size of array [`'‘]?([^'’`]*)['’`]? is too large")


class DeviceTarget:
    """What the emulated targets share: flags, tools, sizes, fit checks."""

    name: str
    description: str
    memory: Memory
    #: executable -> Debian package
    tools: Dict[str, str]
    #: width of C++ ``double`` on the device
    double_bits: int
    size_t_bytes: int = 4
    input_mode: str
    compiler: str
    size_tool: str
    std: str = "c++11"
    opt: str = "-Os"

    def check_tools(self) -> None:
        require_tools(self.tools)

    def cxx_flags(self) -> List[str]:
        return [f"-std={self.std}", self.opt, *self.arch_flags(), *STRICT_FLAGS, *DEVICE_FLAGS]

    def arch_flags(self) -> List[str]:
        raise NotImplementedError

    def exit_code(self) -> str:
        return "return 0;"

    # -- building ----------------------------------------------------------

    def compile_objects(self, workdir: Path, sources: List[str], include_dirs: List[str], timeout: float) -> List[Path]:
        """Compiles each source (a file name in workdir) to an object file in workdir."""
        workdir = _absolute(workdir)
        cmd = [self.compiler, *self.cxx_flags(), *_include_flags(include_dirs), "-c", *sources]
        proc = _run(cmd, workdir, timeout, f"compiling for {self.name}")
        if proc.returncode != 0:
            self._raise_build_error(proc, cmd, "compiling")
        return [workdir / (Path(s).stem + ".o") for s in sources]

    def link(self, workdir: Path, objects: Sequence[Path], output: str, timeout: float) -> Path:
        """Links objects into an ELF image ``output`` in workdir; DoesNotFit if it is too large."""
        workdir = _absolute(workdir)
        elf = workdir / output
        # A linker warning (a misaligned section, a deprecated symbol) means an
        # image that may hang the emulator until its timeout: stop here instead.
        cmd = [self.compiler, *self.cxx_flags(), *[str(_absolute(o)) for o in objects], *self.link_flags()]
        cmd += ["-Wl,--fatal-warnings", "-o", str(elf)]
        proc = _run(cmd, workdir, timeout, f"linking for {self.name}")
        if proc.returncode != 0:
            self._raise_build_error(proc, cmd, "linking")
        self.check_fit(elf, workdir, timeout)
        return elf

    def link_flags(self) -> List[str]:
        raise NotImplementedError

    def check_fit(self, elf: Path, workdir: Path, timeout: float) -> None:
        """Checks a linked image against limits the linker does not know."""

    def _raise_build_error(self, proc: subprocess.CompletedProcess, cmd: Sequence[str], what: str) -> None:
        text = proc.stdout + proc.stderr
        overflows = [(region, int(n)) for region, n in _OVERFLOW.findall(text)]
        for address, region in _NOT_WITHIN.findall(text):
            end = self.region_end(region)
            if end is not None:
                overflows.append((region, int(address, 16) - end))
        if overflows:
            region, over = max(overflows, key=lambda item: item[1])
            raise self.does_not_fit(self._region_name(region), over)
        too_large = _ARRAY_TOO_LARGE.search(text)
        if too_large:
            raise self._object_too_large(too_large.group(1), text[too_large.end() :])
        raise BuildFailed(f"{what} for {self.name} failed (exit {proc.returncode}): {' '.join(cmd)}\n{text[-8000:]}")

    def max_object_bytes(self) -> int:
        return 2**31 - 1

    def region_end(self, linker_region: str) -> Optional[int]:
        """First address after a linker memory region, where the linker's
        message gives an address rather than the bytes over."""
        return None

    #: bytes of the element types of generated tables
    _ELEMENT_BYTES = {
        "int8_t": 1, "uint8_t": 1, "char": 1, "int16_t": 2, "uint16_t": 2,
        "int32_t": 4, "uint32_t": 4, "float": 4, "int64_t": 8, "uint64_t": 8,
    }

    def _object_too_large(self, table: str, after: str) -> DoesNotFit:
        """DoesNotFit for a table larger than one object may be; its size is
        read from the declaration the compiler quotes after the error."""
        limit = self.max_object_bytes()
        decl = re.search(r"\b(\w+)\s+" + re.escape(table) + r"\s*\[(\d+)\]", after)
        size = None
        if decl:
            element = self._ELEMENT_BYTES.get(decl.group(1))
            if decl.group(1) == "double":
                element = self.double_bits // 8
            if element is not None:
                size = element * int(decl.group(2))
        if size is None:
            return DoesNotFit(
                f"does not fit {self.name} ({self.description}): the table {table!r} is over the "
                f"{limit} bytes one object may have here (size_t is {8 * self.size_t_bytes} bits)",
                "object",
                0,
            )
        return DoesNotFit(
            f"does not fit {self.name} ({self.description}): the table {table!r} has {size} bytes, "
            f"{size - limit} bytes over the {limit} bytes one object may have here "
            f"(size_t is {8 * self.size_t_bytes} bits)",
            "object",
            size - limit,
        )

    def _region_name(self, linker_region: str) -> str:
        return {"FLASH": "flash", "text": "flash", "RAM": "RAM", "data": "RAM"}.get(linker_region, linker_region)

    def does_not_fit(self, region: str, over: int, detail: str = "") -> DoesNotFit:
        size = self.memory.flash if region == "flash" else self.memory.ram
        note = ""
        if region == "RAM":
            note = f", keeping {self.memory.stack_reserve} bytes for the stack"
        return DoesNotFit(
            f"does not fit {self.name} ({self.description}): {over} bytes over its "
            f"{size // KIB} KiB of {region}{note}{detail}",
            region,
            over,
        )

    # -- sizes -------------------------------------------------------------

    def section_sizes(self, elf: Path, timeout: float = 60.0) -> Dict[str, int]:
        """{section: bytes} of the allocated sections, from ``size -A``."""
        elf = _absolute(elf)
        out = run_command([self.size_tool, "-A", str(elf)], elf.parent, timeout, f"{self.size_tool} -A")
        sizes: Dict[str, int] = {}
        for line in out.splitlines():
            fields = line.split()
            if len(fields) == 3 and fields[0].startswith(".") and fields[1].isdigit():
                sizes[fields[0]] = int(fields[1])
        return sizes

    def image_size(self, elf: Path, timeout: float = 60.0) -> Tuple[int, int]:
        """(flash, static RAM) of an image: flash = text + rodata + data,
        RAM = data + bss. The stack reservation is not counted."""
        flash = ram = 0
        for section, size in self.section_sizes(elf, timeout).items():
            if section.startswith((".debug", ".comment", ".stab", ".note", ".ARM.attributes")):
                continue
            if section in (".eg_stack", ".eeprom", ".fuse", ".lock", ".signature", ".user_signatures"):
                continue
            if section in (".bss", ".noinit"):
                ram += size
            elif section == ".data":
                ram += size
                flash += size
            else:
                flash += size
        return flash, ram

    # -- running -----------------------------------------------------------

    def run_image(self, elf: Path, rundir: Path, timeout: float) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class CortexMTarget(DeviceTarget):
    """A bare-metal Cortex-M image on qemu-system-arm, talking through
    semihosting (``--specs=rdimon.specs``): output lines and the input file
    go through the host, the exit status is main()'s."""

    name: str
    description: str
    machine: str
    cpu_flags: Tuple[str, ...]
    linker_script: str
    memory: Memory
    opt: str = "-Os"
    std: str = "c++11"

    double_bits = 64
    input_mode = "stream"
    compiler = "arm-none-eabi-g++"
    size_tool = "arm-none-eabi-size"

    @property
    def tools(self) -> Dict[str, str]:  # type: ignore[override]
        return {
            "arm-none-eabi-g++": "gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib",
            "arm-none-eabi-size": "binutils-arm-none-eabi",
            "qemu-system-arm": "qemu-system-arm",
        }

    def check_tools(self) -> None:
        require_tools(self.tools)
        # The compiler alone is not enough: semihosting needs newlib's librdimon.
        proc = subprocess.run(
            ["arm-none-eabi-gcc", *self.cpu_flags, "-print-file-name=librdimon.a"],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0 or not Path(proc.stdout.strip()).is_file():
            raise ToolchainMissing(
                "arm-none-eabi-gcc has no newlib (librdimon.a): install with "
                "`apt-get install libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib`"
            )

    def arch_flags(self) -> List[str]:
        return list(self.cpu_flags)

    def link_flags(self) -> List[str]:
        return [
            "--specs=rdimon.specs",
            "-nostartfiles",
            f"-L{SUPPORT_DIR}",
            f"-T{self.linker_script}",
            "-Wl,--gc-sections",
        ]

    def startup_source(self) -> Path:
        return SUPPORT_DIR / "cortex_m_startup.c"

    def compile_startup(self, workdir: Path, timeout: float) -> Path:
        """The start-up object (C), compiled with the same CPU flags."""
        workdir = _absolute(workdir)
        obj = workdir / "startup.o"
        cmd = [
            "arm-none-eabi-gcc", "-std=c11", self.opt, *self.cpu_flags, "-Wall", "-Wextra", "-Werror",
            *DEVICE_FLAGS, "-c", str(self.startup_source()), "-o", str(obj),
        ]
        run_command(cmd, workdir, timeout, f"compiling the start-up code for {self.name}")
        return obj

    def prelude(self) -> str:
        return r"""
// Semihosting (newlib's librdimon): standard output and files on the host.
extern "C" int _write(int fd, const char* buf, int len);
extern "C" int _read(int fd, char* buf, int len);
extern "C" int _open(const char* path, int flags, ...);

static char eg_line[128];
static unsigned eg_line_len = 0u;

static inline void eg_flush() {
  if (eg_line_len != 0u) {
    _write(1, eg_line, static_cast<int>(eg_line_len));
    eg_line_len = 0u;
  }
}

// One semihosting call per line, not per character.
static inline void eg_putc(char c) {
  eg_line[eg_line_len++] = c;
  if (c == '\n' || eg_line_len == sizeof eg_line) {
    eg_flush();
  }
}

static int eg_input_fd = -1;

static inline bool eg_input_open() {
  eg_input_fd = _open("inputs.bin", 0);
  return eg_input_fd >= 0;
}

static inline bool eg_read_row(float* x, unsigned bytes) {
  if (eg_input_fd < 0) {
    return false;
  }
  char* dst = reinterpret_cast<char*>(x);
  unsigned done = 0u;
  while (done < bytes) {
    const int n = _read(eg_input_fd, dst + done, static_cast<int>(bytes - done));
    if (n <= 0) {
      return false;
    }
    done += static_cast<unsigned>(n);
  }
  return true;
}

extern "C" uint32_t __eg_bss_end[];

static inline __attribute__((always_inline)) uintptr_t eg_stack_pointer() {
  uintptr_t sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  return sp;
}

static inline uintptr_t eg_stack_bottom() { return reinterpret_cast<uintptr_t>(__eg_bss_end); }
"""

    def exit_code(self) -> str:
        return "eg_flush();\n  return 0;"

    def run_image(self, elf: Path, rundir: Path, timeout: float) -> str:
        # The program opens inputs.bin in rundir, its working folder.
        elf, rundir = _absolute(elf), _absolute(rundir)
        cmd = [
            "qemu-system-arm", "-M", self.machine, "-nographic", "-monitor", "none", "-serial", "none",
            "-semihosting-config", "enable=on,target=native", "-kernel", str(elf),
        ]
        proc = _run(cmd, rundir, timeout, f"running on {self.name} (qemu {self.machine})", RunFailed)
        if proc.returncode != 0:
            raise RunFailed(
                f"the test program failed on {self.name} (exit {proc.returncode}): {' '.join(cmd)}\n"
                f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            )
        return proc.stdout


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SIMAVR_LINE = re.compile(r"\x1b\[32m(.*?)\n\x1b\[0m")

#: Program memory that ``memcpy_P``/``pgm_read_*`` reach on AVR: 16-bit
#: addresses. The linker puts all PROGMEM data at the start of flash, before
#: the code, and it must end below this: the tables of models of up to 32 KiB
#: of tables, and the test inputs. Larger models' tables lie after the code
#: and are read with far (24-bit) addresses, so only the flash limits them.
AVR_NEAR_PROGMEM = 64 * KIB


@dataclass(frozen=True)
class AvrTarget(DeviceTarget):
    """An ATmega2560 image on simavr. Output goes through UART0, which simavr
    echoes line by line; the program ends with ``cli(); sleep_cpu();``.
    Inputs are compiled into program memory (``inputs="extern"``), in chunks
    small enough for the 64 KiB that near program-memory reads reach."""

    name: str = "avr"
    description: str = "ATmega2560 on simavr"
    mcu: str = "atmega2560"
    frequency: int = 16_000_000
    memory: Memory = Memory(flash=256 * KIB, ram=8 * KIB, stack_reserve=1 * KIB)
    opt: str = "-Os"
    std: str = "c++11"

    double_bits = 32
    size_t_bytes = 2
    input_mode = "extern"
    compiler = "avr-g++"
    size_tool = "avr-size"

    @property
    def tools(self) -> Dict[str, str]:  # type: ignore[override]
        return {
            "avr-g++": "gcc-avr avr-libc",
            "avr-size": "binutils-avr",
            "avr-nm": "binutils-avr",
            "simavr": "simavr",
        }

    def check_tools(self) -> None:
        require_tools(self.tools)
        proc = subprocess.run(
            ["avr-g++", f"-mmcu={self.mcu}", "-print-file-name=libc.a"], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0 or not Path(proc.stdout.strip()).is_file():
            raise ToolchainMissing("avr-g++ has no C library: install with `apt-get install avr-libc`")

    def arch_flags(self) -> List[str]:
        return [f"-mmcu={self.mcu}"]

    def link_flags(self) -> List[str]:
        # The stock linker script allows 1 MiB of flash and 64 KiB of RAM;
        # give it the ATmega2560's sizes so that it checks them.
        data = self.memory.ram - self.memory.stack_reserve
        return [
            f"-Wl,--defsym=__TEXT_REGION_LENGTH__={self.memory.flash}",
            f"-Wl,--defsym=__DATA_REGION_LENGTH__={data}",
            "-Wl,--gc-sections",
        ]

    def max_object_bytes(self) -> int:
        return 2**15 - 1

    def region_end(self, linker_region: str) -> Optional[int]:
        # avr6 linker script: flash from 0, RAM from 0x800200 (0x800000
        # marks data addresses, 0x200 skips the I/O registers).
        if linker_region == "text":
            return self.memory.flash
        if linker_region == "data":
            return 0x800200 + self.memory.ram - self.memory.stack_reserve
        return None

    def check_fit(self, elf: Path, workdir: Path, timeout: float) -> None:
        """Refuses an image whose near PROGMEM data (read with 16-bit
        addresses) does not end within the low 64 KiB of flash. The linker has
        checked the flash; tables of models over 32 KiB are read with far
        addresses wherever they lie."""
        over = self.progmem_end(elf, timeout) - AVR_NEAR_PROGMEM
        if over > 0:
            raise DoesNotFit(
                f"does not fit {self.name} ({self.description}): its PROGMEM data is {over} bytes over "
                f"the low {AVR_NEAR_PROGMEM // KIB} KiB of flash that 16-bit reads (memcpy_P) reach; "
                "that is the tables of models of up to 32 KiB of tables, and the inputs "
                "(models with larger tables keep them beyond, read with far addresses)",
                "near program memory",
                over,
            )

    def progmem_end(self, elf: Path, timeout: float = 60.0) -> int:
        """First address after the PROGMEM data: the stock linker script puts
        all of it at the start of flash, right before ``__ctors_start``."""
        elf = _absolute(elf)
        out = run_command(["avr-nm", str(elf)], elf.parent, timeout, "avr-nm")
        for line in out.splitlines():
            fields = line.split()
            if len(fields) == 3 and fields[2] == "__ctors_start":
                return int(fields[0], 16)
        raise BuildFailed(f"{elf}: no __ctors_start symbol; cannot check program memory")

    def prelude(self) -> str:
        return r"""
#include <avr/io.h>
#include <avr/interrupt.h>
#include <avr/sleep.h>

// UART0 at its fastest rate (U2X, UBRR 0): simavr times the bytes it sends.
static inline void eg_begin() {
  UCSR0A = static_cast<uint8_t>(1u << U2X0);
  UBRR0 = 0u;
  UCSR0B = static_cast<uint8_t>(1u << TXEN0);
}

static inline void eg_putc(char c) {
  while (!(UCSR0A & (1u << UDRE0))) {
  }
  UDR0 = static_cast<uint8_t>(c);
}

// simavr stops when the CPU sleeps with interrupts off.
static inline void eg_halt() {
  cli();
  sleep_enable();
  sleep_cpu();
  for (;;) {
  }
}

extern "C" char __heap_start;

static inline __attribute__((always_inline)) uintptr_t eg_stack_pointer() { return static_cast<uintptr_t>(SP); }

static inline uintptr_t eg_stack_bottom() { return reinterpret_cast<uintptr_t>(&__heap_start); }
"""

    def exit_code(self) -> str:
        return "eg_halt();\n  return 0;"

    def run_image(self, elf: Path, rundir: Path, timeout: float) -> str:
        elf, rundir = _absolute(elf), _absolute(rundir)
        cmd = ["simavr", "-m", self.mcu, "-f", str(self.frequency), str(elf)]
        proc = _run(cmd, rundir, timeout, f"running on {self.name} (simavr)", RunFailed)
        text = proc.stdout + proc.stderr
        if proc.returncode != 0:
            raise RunFailed(f"simavr failed (exit {proc.returncode}): {' '.join(cmd)}\n{_ANSI.sub('', text)[-2000:]}")
        return uart_text(text)


def uart_text(simavr_output: str) -> str:
    """What the program wrote to UART0, from simavr's echo of it: each piece
    is wrapped in colour codes and ended by a newline of simavr's own, after
    a newline of the program (shown as '.') or 256 characters."""
    pieces = _SIMAVR_LINE.findall(simavr_output)
    return "".join(pieces).replace(".", "\n")


CORTEX_M0 = CortexMTarget(
    name="cortex-m0",
    description="nRF51 on qemu-system-arm -M microbit",
    machine="microbit",
    cpu_flags=("-mcpu=cortex-m0", "-mthumb", "-mfloat-abi=soft"),
    linker_script="microbit.ld",
    memory=Memory(flash=256 * KIB, ram=16 * KIB, stack_reserve=2 * KIB),
)

CORTEX_M4F = CortexMTarget(
    name="cortex-m4f",
    description="MPS2 AN386 on qemu-system-arm -M mps2-an386",
    machine="mps2-an386",
    cpu_flags=("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
    linker_script="mps2_an386.ld",
    memory=Memory(flash=4096 * KIB, ram=4096 * KIB, stack_reserve=64 * KIB),
)

AVR = AvrTarget()

#: The emulated devices, by name.
DEVICE_TARGETS: Dict[str, DeviceTarget] = {t.name: t for t in (CORTEX_M0, CORTEX_M4F, AVR)}


def find_device(name: str) -> Optional[DeviceTarget]:
    return DEVICE_TARGETS.get(name)
