// What libdistkernel exports. It is built with hidden visibility: only the declarations of the
// public headers marked DISTKERNEL_API are its interface, and lib/libdistkernel.map gives them a
// version and keeps anything else (the standard library's and nlohmann's template instances, the
// library's internals) out of the dynamic symbol table.
#pragma once

#define DISTKERNEL_API __attribute__((visibility("default")))
