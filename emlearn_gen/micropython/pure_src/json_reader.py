# A small JSON reader for ports without MicroPython's json module. The
# pure-Python runtime reads the model file's class labels with it; the
# emulated Cortex-M4F's MicroPython (emlearn_gen/micropython/port_mps2),
# built without MicroPython's extmod, gets it as its json module.


def _json_loads(text):
    # JSON text -> Python values: objects, arrays, strings, numbers, true,
    # false and null. Enough for a model file's metadata, which emlearn-gen
    # writes; it does not check for malformed JSON.
    pos = [0]

    def skip():
        while pos[0] < len(text) and text[pos[0]] in ' \t\r\n':
            pos[0] += 1

    def value():
        skip()
        c = text[pos[0]]
        if c == '{':
            out = {}
            pos[0] += 1
            skip()
            if text[pos[0]] == '}':
                pos[0] += 1
                return out
            while True:
                skip()
                key = value()
                skip()
                pos[0] += 1  # ':'
                out[key] = value()
                skip()
                c = text[pos[0]]
                pos[0] += 1
                if c == '}':
                    return out
        if c == '[':
            out = []
            pos[0] += 1
            skip()
            if text[pos[0]] == ']':
                pos[0] += 1
                return out
            while True:
                out.append(value())
                skip()
                c = text[pos[0]]
                pos[0] += 1
                if c == ']':
                    return out
        if c == '"':
            pos[0] += 1
            parts = []
            while text[pos[0]] != '"':
                c = text[pos[0]]
                if c == '\\':
                    e = text[pos[0] + 1]
                    if e == 'u':
                        parts.append(chr(int(text[pos[0] + 2:pos[0] + 6], 16)))
                        pos[0] += 6
                        continue
                    parts.append({'n': '\n', 't': '\t', 'r': '\r', 'b': '\b', 'f': '\f'}.get(e, e))
                    pos[0] += 2
                    continue
                parts.append(c)
                pos[0] += 1
            pos[0] += 1
            return ''.join(parts)
        for word, result in (('true', True), ('false', False), ('null', None)):
            if text.startswith(word, pos[0]):
                pos[0] += len(word)
                return result
        start = pos[0]
        while pos[0] < len(text) and text[pos[0]] in '+-0123456789.eE':
            pos[0] += 1
        number = text[start:pos[0]]
        if '.' in number or 'e' in number or 'E' in number:
            return float(number)
        return int(number)

    return value()
