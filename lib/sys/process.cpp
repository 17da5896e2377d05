// The only user of Boost.Process (its API moved in Boost 1.88: v1 lives under
// boost/process/v1 there; Debian 12 has 1.74, where it is the default).
#include "distkernel/process.hpp"
#include "distkernel/error.hpp"
#include "distkernel/quote.hpp"
#include "sys/text.hpp"

#if __has_include(<boost/process/v1/child.hpp>)
#include <boost/process/v1/args.hpp>
#include <boost/process/v1/child.hpp>
#include <boost/process/v1/env.hpp>
#include <boost/process/v1/environment.hpp>
#include <boost/process/v1/extend.hpp>
#include <boost/process/v1/io.hpp>
#include <boost/process/v1/pipe.hpp>
#include <boost/process/v1/start_dir.hpp>
namespace bp = boost::process::v1;
#else
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>
#include <boost/process/start_dir.hpp>
namespace bp = boost::process;
#endif

#include <csignal>
#include <cstring>
#include <fmt/core.h>
#include <signal.h>
#include <sys/wait.h>

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
	for (std::string_view dir : text::split(path, ':')) {
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

// Termination while a child runs (SIGTERM, SIGINT, SIGHUP): the child runs in its own process
// group, the signal goes to that whole group (dracut and everything it started), and run()
// then throws, so that the caller's transaction rolls back and its temporary files go. With no
// child running the signal does what it always did (a journal undoes a half-done install on
// the next run).
constexpr int forwarded_signals[] = {SIGTERM, SIGINT, SIGHUP};
volatile std::sig_atomic_t child_group = 0;
volatile std::sig_atomic_t caught_signal = 0;

extern "C" void forward_termination(int sig)
{
	pid_t group = child_group;
	if (group > 0) {
		caught_signal = sig;
		::kill(-group, sig);
		return;
	}
	::signal(sig, SIG_DFL);
	::raise(sig);
}

void install_forwarding()
{
	static const bool installed = [] {
		for (int sig : forwarded_signals) {
			struct sigaction old {};
			::sigaction(sig, nullptr, &old);
			if (old.sa_handler == SIG_IGN)
				continue; // nohup and friends: keep ignoring it
			struct sigaction sa {};
			sa.sa_handler = forward_termination;
			sigemptyset(&sa.sa_mask);
			sa.sa_flags = SA_RESTART;
			::sigaction(sig, &sa, nullptr);
		}
		return true;
	}();
	(void)installed;
}

// Blocks the forwarded signals from before the child exists until its group is known, so that
// none arrives in between and leaves the child running.
class BlockTermination {
public:
	BlockTermination()
	{
		sigset_t set;
		sigemptyset(&set);
		for (int sig : forwarded_signals)
			sigaddset(&set, sig);
		::pthread_sigmask(SIG_BLOCK, &set, &old_);
	}
	~BlockTermination() { unblock(); }
	void unblock()
	{
		if (blocked_)
			::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
		blocked_ = false;
	}
	const sigset_t &old() const { return old_; }

private:
	sigset_t old_;
	bool blocked_ = true;
};

fs::path executable(const Command &cmd)
{
	if (cmd.argv.empty())
		throw InternalError("empty command");
	fs::path exe = find_program(cmd.argv[0], cmd.env);
	if (exe.empty())
		throw Error("cannot run " + quote_input(cmd.argv[0]) + ": no such program in PATH");
	return exe;
}

bp::environment child_environment(const Command &cmd)
{
	// Boost 1.74's environment::find compares len(key)+1 bytes against every entry without
	// checking the entry's length (a heap overflow ASan reports when a key is longer than an
	// existing "K=V" entry): inserting the longest keys first keeps every entry long enough.
	std::vector<std::pair<std::string, std::string>> vars(cmd.env.begin(), cmd.env.end());
	std::stable_sort(vars.begin(), vars.end(),
			 [](const auto &a, const auto &b) { return a.first.size() > b.first.size(); });
	bp::environment env;
	for (const auto &[k, v] : vars)
		env[k] = v;
	return env;
}

// Boost reports a signal death as the raw status; normalise to the shell's 128+N.
int exit_code_of(bp::child &child)
{
	int native = child.native_exit_code();
	return WIFSIGNALED(native) ? 128 + WTERMSIG(native) : child.exit_code();
}

} // namespace

Result run(const Command &cmd)
{
	fs::path exe = executable(cmd);
	bp::environment env = child_environment(cmd);
	std::vector<std::string> args(cmd.argv.begin() + 1, cmd.argv.end());
	fs::path cwd = cmd.cwd.empty() ? fs::current_path() : cmd.cwd;

	install_forwarding();
	Result r;
	try {
		TempFile out, err;
		BlockTermination block;
		// In the child before exec: its own process group, and the signal mask it would have had.
		const sigset_t *unblocked = &block.old();
		auto own_group = bp::extend::on_exec_setup = [unblocked](auto &) {
			::setpgid(0, 0);
			::sigprocmask(SIG_SETMASK, unblocked, nullptr);
		};
		bp::child child;
		switch (cmd.output) {
		case Command::Output::capture:
			child = bp::child(exe.string(), bp::args(args), env, bp::start_dir(cwd.string()),
					  bp::std_in < bp::null, bp::std_out > out.path.string(),
					  bp::std_err > err.path.string(), own_group);
			break;
		case Command::Output::to_stderr:
			child = bp::child(exe.string(), bp::args(args), env, bp::start_dir(cwd.string()),
					  bp::std_in < bp::null, bp::std_out > stderr, bp::std_err > stderr, own_group);
			break;
		case Command::Output::stdout_only:
			child = bp::child(exe.string(), bp::args(args), env, bp::start_dir(cwd.string()),
					  bp::std_in < bp::null, bp::std_out > out.path.string(),
					  bp::std_err > stderr, own_group);
			break;
		}
		// Also from here: the signal may come before the child ran its own setpgid.
		::setpgid(child.id(), child.id());
		caught_signal = 0;
		child_group = child.id();
		block.unblock();
		child.wait();
		child_group = 0;
		if (int sig = caught_signal) {
			caught_signal = 0;
			// What the child started and left behind (or what ignores the signal, as a
			// shell's background jobs ignore SIGINT) goes too.
			::kill(-child.id(), SIGKILL);
			throw Error(fmt::format("interrupted by signal {} ({}) while {} ran; it and its children were stopped",
						sig, ::strsignal(sig), fs::path(cmd.argv[0]).filename().string()));
		}
		r.exit_code = exit_code_of(child);
		if (cmd.output != Command::Output::to_stderr)
			r.out = out.read();
		if (cmd.output == Command::Output::capture)
			r.err = err.read();
	} catch (const std::system_error &e) {
		child_group = 0;
		throw SystemError("cannot start " + to_display(cmd.argv), e.code().value());
	}
	return r;
}

Result run_streaming(const Command &cmd, const std::function<bool(std::string_view)> &consume)
{
	fs::path exe = executable(cmd);
	bp::environment env = child_environment(cmd);
	std::vector<std::string> args(cmd.argv.begin() + 1, cmd.argv.end());
	fs::path cwd = cmd.cwd.empty() ? fs::current_path() : cmd.cwd;
	Result r;
	TempFile err;
	bp::ipstream out;
	bp::child child;
	try {
		child = bp::child(exe.string(), bp::args(args), env, bp::start_dir(cwd.string()), bp::std_in < bp::null,
				  bp::std_out > out, bp::std_err > err.path.string());
	} catch (const std::system_error &e) {
		throw SystemError("cannot start " + to_display(cmd.argv), e.code().value());
	}
	std::vector<char> buf(1 << 16);
	bool stopped = false;
	try {
		while (!stopped) {
			out.read(buf.data(), static_cast<std::streamsize>(buf.size()));
			std::streamsize n = out.gcount();
			if (n <= 0)
				break;
			stopped = !consume(std::string_view(buf.data(), static_cast<std::size_t>(n)));
		}
	} catch (...) {
		std::error_code ec;
		child.terminate(ec);
		throw;
	}
	std::error_code ec;
	if (stopped)
		child.terminate(ec);
	else
		child.wait(ec);
	r.exit_code = exit_code_of(child);
	r.err = err.read();
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
