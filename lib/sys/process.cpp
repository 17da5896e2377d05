// The only user of Boost.Process (its API moved in Boost 1.88: v1 lives under
// boost/process/v1 there; Debian 12 has 1.74, where it is the default).
#include "distkernel/process.hpp"
#include "distkernel/error.hpp"

#if __has_include(<boost/process/v1/child.hpp>)
#include <boost/process/v1/args.hpp>
#include <boost/process/v1/child.hpp>
#include <boost/process/v1/env.hpp>
#include <boost/process/v1/environment.hpp>
#include <boost/process/v1/io.hpp>
#include <boost/process/v1/start_dir.hpp>
namespace bp = boost::process::v1;
#else
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/io.hpp>
#include <boost/process/start_dir.hpp>
namespace bp = boost::process;
#endif

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

extern char **environ;

namespace distkernel {
namespace fs = std::filesystem;

Environment environment_subset(const std::vector<std::string> &names)
{
	Environment e;
	for (const auto &n : names)
		if (const char *v = std::getenv(n.c_str()))
			e[n] = v;
	return e;
}

Environment default_environment()
{
	Environment e = environment_subset({"PATH", "HOME", "TMPDIR", "TERM"});
	std::string path = e.count("PATH") ? e["PATH"] : "/usr/bin:/bin";
	for (std::string d : {"/usr/local/sbin", "/usr/sbin", "/sbin"})
		if ((":" + path + ":").find(":" + d + ":") == std::string::npos)
			path += ":" + d;
	e["PATH"] = path;
	e["LC_ALL"] = "C";
	return e;
}

fs::path find_program(const std::string &name, const Environment &env)
{
	if (name.find('/') != std::string::npos)
		return ::access(name.c_str(), X_OK) == 0 ? fs::path(name) : fs::path();
	auto it = env.find("PATH");
	std::string path = it == env.end() ? "/usr/bin:/bin" : it->second;
	std::stringstream ss(path);
	std::string dir;
	while (std::getline(ss, dir, ':')) {
		if (dir.empty())
			continue;
		fs::path p = fs::path(dir) / name;
		std::error_code ec;
		if (fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0)
			return p;
	}
	return {};
}

namespace {

// A temporary file that is removed when it goes out of scope; the child writes into it,
// which avoids the pipe deadlocks of capturing two streams at once.
struct TempFile {
	fs::path path;
	TempFile()
	{
		std::string tmpl = (fs::temp_directory_path() / "distkernel-out.XXXXXX").string();
		int fd = ::mkstemp(tmpl.data());
		if (fd < 0)
			throw SystemError("cannot create a temporary file in " + fs::temp_directory_path().string(), errno);
		::close(fd);
		path = tmpl;
	}
	~TempFile()
	{
		std::error_code ec;
		fs::remove(path, ec);
	}
	std::string read() const
	{
		std::ifstream in(path, std::ios::binary);
		std::ostringstream s;
		s << in.rdbuf();
		return s.str();
	}
};

} // namespace

Result run(const Command &cmd)
{
	if (cmd.argv.empty())
		throw InternalError("empty command");
	fs::path exe = find_program(cmd.argv[0], cmd.env);
	if (exe.empty())
		throw Error("cannot run " + cmd.argv[0] + ": not found in PATH (" +
			    (cmd.env.count("PATH") ? cmd.env.at("PATH") : std::string("unset")) + ")");

	// Boost 1.74's environment::find compares len(key)+1 bytes against every entry without
	// checking the entry's length (a heap overflow ASan reports when a key is longer than an
	// existing "K=V" entry): inserting the longest keys first keeps every entry long enough.
	std::vector<std::pair<std::string, std::string>> vars(cmd.env.begin(), cmd.env.end());
	std::stable_sort(vars.begin(), vars.end(),
			 [](const auto &a, const auto &b) { return a.first.size() > b.first.size(); });
	bp::environment env;
	for (const auto &[k, v] : vars)
		env[k] = v;
	std::vector<std::string> args(cmd.argv.begin() + 1, cmd.argv.end());
	fs::path cwd = cmd.cwd.empty() ? fs::current_path() : cmd.cwd;

	Result r;
	try {
		TempFile out, err;
		bp::child child;
		switch (cmd.output) {
		case Command::Output::capture:
			child = bp::child(exe.string(), bp::args(args), env, bp::start_dir(cwd.string()),
					  bp::std_in < bp::null, bp::std_out > out.path.string(),
					  bp::std_err > err.path.string());
			break;
		case Command::Output::to_stderr:
			child = bp::child(exe.string(), bp::args(args), env, bp::start_dir(cwd.string()),
					  bp::std_in < bp::null, bp::std_out > stderr, bp::std_err > stderr);
			break;
		case Command::Output::stdout_only:
			child = bp::child(exe.string(), bp::args(args), env, bp::start_dir(cwd.string()),
					  bp::std_in < bp::null, bp::std_out > out.path.string(),
					  bp::std_err > stderr);
			break;
		}
		child.wait();
		r.exit_code = child.exit_code();
		// Boost reports a signal death as the raw status; normalise to the shell's 128+N.
		int native = child.native_exit_code();
		if (WIFSIGNALED(native))
			r.exit_code = 128 + WTERMSIG(native);
		if (cmd.output != Command::Output::to_stderr)
			r.out = out.read();
		if (cmd.output == Command::Output::capture)
			r.err = err.read();
	} catch (const std::system_error &e) {
		throw SystemError("cannot start " + to_display(cmd.argv), e.code().value());
	}
	return r;
}

std::string Result::tail(std::size_t lines) const
{
	const std::string &s = err.empty() ? out : err;
	std::size_t end = s.size();
	if (end && s[end - 1] == '\n')
		--end;
	std::size_t pos = end;
	std::size_t n = 0;
	while (pos > 0) {
		if (s[pos - 1] == '\n' && ++n == lines)
			break;
		--pos;
	}
	return s.substr(pos, end - pos);
}

std::string to_display(const std::vector<std::string> &argv)
{
	std::string out;
	for (const auto &a : argv) {
		if (!out.empty())
			out += ' ';
		bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == std::string::npos;
		if (plain) {
			out += a;
		} else {
			out += '\'';
			for (char c : a)
				out += c == '\'' ? std::string("'\\''") : std::string(1, c);
			out += '\'';
		}
	}
	return out;
}

} // namespace distkernel
