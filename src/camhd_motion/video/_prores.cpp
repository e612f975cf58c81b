// camhd_motion.video._prores: the partial ProRes decoder of native/src/prores_partial.cpp
// for Python (the same C++ code as the native engine, so the same bytes).  Built by the
// package's own build (setup.py, an optional extension: where no compiler exists the
// package installs without it and video/partial.py falls back to FFmpeg).
//
//   decode_block_sums(data, width, height, factor, depth, out) -> (status, reason)
//       data: any bytes-like object (one frame); out: a writable C-contiguous buffer of
//       (height // factor) * (width // factor) uint32 (a numpy array).  status 0 ok,
//       1 unsupported (decode it with FFmpeg), 2 damaged.
//   low_coefficients(data, width, height, out) -> (status, reason)
//       diagnostics: out holds 4 planes of (mb_rows*2, mb_cols*2) int32.
//   frame_info(data) -> (status, reason, (width, height, frame_type, chroma_format, alpha))
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string>

#include "prores_partial.hpp"

namespace {

using camhd::prores::Outcome;

PyObject* outcome_tuple(const Outcome& o) {
    return Py_BuildValue("(is)", static_cast<int>(o.status), o.reason.c_str());
}

struct Buffers {
    Py_buffer in{};
    Py_buffer out{};
    bool have_in = false, have_out = false;
    ~Buffers() {
        if (have_in) PyBuffer_Release(&in);
        if (have_out) PyBuffer_Release(&out);
    }
};

bool get_buffers(PyObject* data, PyObject* out, Buffers* b, Py_ssize_t need_bytes) {
    if (PyObject_GetBuffer(data, &b->in, PyBUF_C_CONTIGUOUS) < 0) return false;
    b->have_in = true;
    if (PyObject_GetBuffer(out, &b->out, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) return false;
    b->have_out = true;
    if (b->out.len != need_bytes) {
        PyErr_Format(PyExc_ValueError, "out has %zd bytes, needs %zd", b->out.len, need_bytes);
        return false;
    }
    if (reinterpret_cast<uintptr_t>(b->out.buf) % 4 != 0) {
        PyErr_SetString(PyExc_ValueError, "out is not 4-byte aligned");
        return false;
    }
    return true;
}

bool check_size(int width, int height) {
    if (width <= 0 || height <= 0 || width > 65535 || height > 65535) {
        PyErr_Format(PyExc_ValueError, "bad frame size %dx%d", width, height);
        return false;
    }
    return true;
}

PyObject* decode_block_sums(PyObject*, PyObject* args) {
    PyObject *data, *out;
    int width, height, factor, depth;
    if (!PyArg_ParseTuple(args, "OiiiiO", &data, &width, &height, &factor, &depth, &out))
        return nullptr;
    if (!check_size(width, height)) return nullptr;
    if (!camhd::prores::supports_factor(factor)) {
        PyErr_Format(PyExc_ValueError, "unsupported factor %d", factor);
        return nullptr;
    }
    Buffers b;
    const Py_ssize_t need = Py_ssize_t(height / factor) * (width / factor) * 4;
    if (!get_buffers(data, out, &b, need)) return nullptr;
    Outcome o;
    Py_BEGIN_ALLOW_THREADS
    o = camhd::prores::decode_block_sums(static_cast<const uint8_t*>(b.in.buf),
                                         static_cast<size_t>(b.in.len), width, height, factor,
                                         depth, static_cast<uint32_t*>(b.out.buf));
    Py_END_ALLOW_THREADS
    return outcome_tuple(o);
}

PyObject* low_coefficients(PyObject*, PyObject* args) {
    PyObject *data, *out;
    int width, height;
    if (!PyArg_ParseTuple(args, "OiiO", &data, &width, &height, &out)) return nullptr;
    if (!check_size(width, height)) return nullptr;
    Buffers b;
    const Py_ssize_t need =
        Py_ssize_t(4) * ((height + 15) / 16 * 2) * ((width + 15) / 16 * 2) * 4;
    if (!get_buffers(data, out, &b, need)) return nullptr;
    Outcome o;
    Py_BEGIN_ALLOW_THREADS
    o = camhd::prores::decode_low_coefficients(static_cast<const uint8_t*>(b.in.buf),
                                               static_cast<size_t>(b.in.len), width, height,
                                               static_cast<int32_t*>(b.out.buf));
    Py_END_ALLOW_THREADS
    return outcome_tuple(o);
}

PyObject* frame_info(PyObject*, PyObject* args) {
    Py_buffer in{};
    if (!PyArg_ParseTuple(args, "y*", &in)) return nullptr;
    camhd::prores::FrameInfo info;
    const Outcome o = camhd::prores::read_frame_info(static_cast<const uint8_t*>(in.buf),
                                                     static_cast<size_t>(in.len), &info);
    PyBuffer_Release(&in);
    return Py_BuildValue("(is(iiiii))", static_cast<int>(o.status), o.reason.c_str(),
                         info.width, info.height, info.frame_type, info.chroma_format,
                         info.alpha);
}

PyMethodDef methods[] = {
    {"decode_block_sums", decode_block_sums, METH_VARARGS,
     "decode_block_sums(data, width, height, factor, depth, out) -> (status, reason)"},
    {"low_coefficients", low_coefficients, METH_VARARGS,
     "low_coefficients(data, width, height, out) -> (status, reason)"},
    {"frame_info", frame_info, METH_VARARGS,
     "frame_info(data) -> (status, reason, (width, height, frame_type, chroma, alpha))"},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_prores",
    "Partial ProRes luma decoder (native/src/prores_partial.cpp).", -1, methods,
    nullptr, nullptr, nullptr, nullptr,
};

}  // namespace

PyMODINIT_FUNC PyInit__prores(void) {
    PyObject* m = PyModule_Create(&module);
    if (m == nullptr) return nullptr;
    PyModule_AddIntConstant(m, "OK", 0);
    PyModule_AddIntConstant(m, "UNSUPPORTED", 1);
    PyModule_AddIntConstant(m, "DAMAGED", 2);
    return m;
}
