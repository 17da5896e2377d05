// String-keyed maps looked up with a string_view without making a std::string for each lookup
// (the config parser and the Kconfig reader look symbols up by the million). Private to the
// library: the public classes hold these maps behind a pointer to a struct of their own.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace distkernel {

struct StringHash {
	using is_transparent = void;
	std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <typename T>
using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

// The object p points to, for writing: made when there is none, copied first while another owner
// shares it (copies of a Config or a Kconfig share their maps until one of them changes).
template <typename T>
T &unshared(std::shared_ptr<T> &p)
{
	if (!p)
		p = std::make_shared<T>();
	else if (p.use_count() > 1)
		p = std::make_shared<T>(*p);
	return *p;
}

} // namespace distkernel
