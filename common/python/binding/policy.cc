// pyfresh._core.PackagePolicy: which modules a reload clears.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "binding/conversions.h"
#include "binding/internal.h"
#include "pyfresh/package_policy.h"

namespace pyfresh::binding {

// --- PackagePolicy -----------------------------------------------------------

struct PolicyObject {
  PyObject_HEAD
  pyfresh::PackagePolicy* policy;
};

int PolicyInit(PyObject* self_object, PyObject* args, PyObject* kwargs) {
  auto* self = reinterpret_cast<PolicyObject*>(self_object);
  static const char* keywords[] = {"packages", "exclude", nullptr};
  PyObject* packages_object = nullptr;
  PyObject* exclude_object = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:PackagePolicy", const_cast<char**>(keywords),
                                   &packages_object, &exclude_object)) {
    return -1;
  }
  try {
    std::vector<std::string> packages, exclude;
    if (!ToStringList(packages_object, &packages, "package name")) return -1;
    if (exclude_object != nullptr && !ToStringList(exclude_object, &exclude, "excluded module name")) return -1;
    pyfresh::PackagePolicy policy;
    pyfresh::Status status = pyfresh::PackagePolicy::Create(std::move(packages), std::move(exclude), &policy);
    if (!status.ok()) {
      PyObject* module = PyType_GetModule(Py_TYPE(self_object));
      if (module == nullptr) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, status.message().c_str());
      } else {
        RaiseConfigError(module, status);
      }
      return -1;
    }
    delete self->policy;
    self->policy = new pyfresh::PackagePolicy(std::move(policy));
    return 0;
  } catch (...) {
    SetErrorFromCurrentException();
    return -1;
  }
}

void PolicyDealloc(PyObject* self_object) {
  auto* self = reinterpret_cast<PolicyObject*>(self_object);
  PyTypeObject* type = Py_TYPE(self_object);
  delete self->policy;
  type->tp_free(self_object);
  Py_DECREF(type);
}

bool PolicyReady(PolicyObject* self) {
  if (self->policy != nullptr) return true;
  PyErr_SetString(PyExc_RuntimeError, "PackagePolicy was not initialised");
  return false;
}

// Asks the policy one question about a module name given as str.
PyObject* AskPolicy(PyObject* self_object, PyObject* name_object,
                    bool (pyfresh::PackagePolicy::*question)(std::string_view) const) {
  auto* self = reinterpret_cast<PolicyObject*>(self_object);
  if (!PolicyReady(self) || !PyUnicode_Check(name_object)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "module name must be str");
    return nullptr;
  }
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(name_object, &size);
  if (data == nullptr) return nullptr;
  return PyBool_FromLong((self->policy->*question)(std::string_view(data, static_cast<size_t>(size))));
}

PyObject* PolicyCovers(PyObject* self_object, PyObject* name_object) {
  return AskPolicy(self_object, name_object, &pyfresh::PackagePolicy::Covers);
}

PyObject* PolicyIsExcluded(PyObject* self_object, PyObject* name_object) {
  return AskPolicy(self_object, name_object, &pyfresh::PackagePolicy::IsExcluded);
}

PyObject* PolicyPackages(PyObject* self_object, void*) {
  auto* self = reinterpret_cast<PolicyObject*>(self_object);
  if (!PolicyReady(self)) return nullptr;
  return ToPyNameList(self->policy->packages());
}

PyObject* PolicyExclude(PyObject* self_object, void*) {
  auto* self = reinterpret_cast<PolicyObject*>(self_object);
  if (!PolicyReady(self)) return nullptr;
  return ToPyNameList(self->policy->exclude());
}

PyMethodDef policy_methods[] = {
    {"covers", PolicyCovers, METH_O, "True when a reload clears this module."},
    {"is_excluded", PolicyIsExcluded, METH_O, "True when this module is kept across reloads."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef policy_getset[] = {
    {"packages", PolicyPackages, nullptr, "The package prefixes.", nullptr},
    {"exclude", PolicyExclude, nullptr, "The excluded modules.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot policy_slots[] = {
    {Py_tp_init, reinterpret_cast<void*>(PolicyInit)},
    {Py_tp_dealloc, reinterpret_cast<void*>(PolicyDealloc)},
    {Py_tp_methods, policy_methods},
    {Py_tp_getset, policy_getset},
    {Py_tp_doc, const_cast<char*>("PackagePolicy(packages, exclude=()): which modules a reload clears.")},
    {0, nullptr},
};

PyType_Spec policy_spec = {"pyfresh._core.PackagePolicy", sizeof(PolicyObject), 0, Py_TPFLAGS_DEFAULT, policy_slots};

}  // namespace pyfresh::binding
