// Human output: on stderr, short, one line per event. JSON goes to stdout and never through here.
#pragma once

#include "distkernel/export.hpp"

#include <fmt/core.h>
#include <string_view>

namespace distkernel {

enum class Verbosity { quiet = 0, normal = 1, verbose = 2, debug = 3 };

class DISTKERNEL_API Logger {
public:
	explicit Logger(Verbosity v = Verbosity::normal) : level_(v) {}
	Verbosity level() const noexcept { return level_; }
	void set_level(Verbosity v) noexcept { level_ = v; }

	// A long step starts ("running make olddefconfig in /usr/src/linux ...").
	template <typename... A> void step(fmt::format_string<A...> f, A &&...a) const
	{
		emit(Verbosity::normal, ">>> ", fmt::format(f, std::forward<A>(a)...));
	}
	template <typename... A> void info(fmt::format_string<A...> f, A &&...a) const
	{
		emit(Verbosity::normal, "", fmt::format(f, std::forward<A>(a)...));
	}
	template <typename... A> void warn(fmt::format_string<A...> f, A &&...a) const
	{
		emit(Verbosity::quiet, "warning: ", fmt::format(f, std::forward<A>(a)...));
	}
	template <typename... A> void verbose(fmt::format_string<A...> f, A &&...a) const
	{
		emit(Verbosity::verbose, "", fmt::format(f, std::forward<A>(a)...));
	}
	template <typename... A> void debug(fmt::format_string<A...> f, A &&...a) const
	{
		emit(Verbosity::debug, "debug: ", fmt::format(f, std::forward<A>(a)...));
	}

private:
	void emit(Verbosity at, std::string_view prefix, const std::string &text) const;
	Verbosity level_;
};

} // namespace distkernel
