// Internal to lib/stage: running independent work items on a few threads.
#pragma once

#include <cstddef>
#include <functional>

namespace distkernel::detail {

// Calls work(i) for every i in [0, n) on up to `jobs` threads (0: one per CPU). The first
// exception stops the remaining items and is rethrown here.
void parallel_for(std::size_t n, unsigned jobs, const std::function<void(std::size_t)> &work);

} // namespace distkernel::detail
