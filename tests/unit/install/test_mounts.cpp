// lib/install/mounts.cpp: add refuses a /boot or ESP of its own that is not mounted, on a root
// that is itself a mount point (a machine being set up); a plain directory as root is an image and
// is not checked. The mounts are made in a child process with a mount namespace of its own.
#include "catch.hpp"
#include "files.hpp"

#include "distkernel/error.hpp"
#include "install/install_internal.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace distkernel;
namespace fs = std::filesystem;

namespace {

// What require_mounted(root, base) says: "" when it lets the install go on.
std::string mounts_verdict(const Root &root, const std::string &base)
{
	try {
		detail::require_mounted(root, base);
	} catch (const Error &e) {
		return e.what();
	}
	return "";
}

// Runs body in a child with a private mount namespace (tmpfs mounts end with it); the child's
// exit status: 0 when body returned true, 1 otherwise, 2 when the namespace cannot be had.
int mounts_in_namespace(const std::function<bool()> &body)
{
	pid_t pid = ::fork();
	if (pid == 0) {
		if (::unshare(CLONE_NEWNS) != 0 || ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
			::_exit(2);
		bool ok = false;
		try {
			ok = body();
		} catch (...) {
		}
		::_exit(ok ? 0 : 1);
	}
	int status = 0;
	::waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

} // namespace

TEST_CASE("mounts: a plain directory as root is not checked against its fstab", "[install]")
{
	TempDir t;
	Root root(t.path());
	test::put(t.path() / "etc/fstab", "UUID=1 /boot ext4 noauto 0 2\nUUID=2 /efi vfat umask=0077 0 2\n");
	CHECK(mounts_verdict(root, "/boot").empty());
	CHECK(mounts_verdict(root, "/efi").empty());
}

TEST_CASE("mounts: on a mounted root, /boot and the ESP of their own must be mounted", "[install]")
{
	if (::geteuid() != 0) {
		WARN("skipped: mounting needs root privileges");
		return;
	}
	TempDir t;
	const fs::path r = t.path() / "root";
	int status = mounts_in_namespace([&] {
		fs::create_directories(r);
		if (::mount("tmpfs", r.c_str(), "tmpfs", 0, "size=1m") != 0)
			return false;
		Root root(r);
		test::put(r / "etc/fstab", "# the machine\nUUID=0a0a / ext4 defaults 0 1\nUUID=1111 /boot/ ext4 noauto 0 2\n"
					   "UUID=2222 /boot/efi vfat umask=0077 0 2\n/swapfile none swap sw 0 0\n");
		fs::create_directories(r / "boot/efi");
		const std::string unmounted = mounts_verdict(root, "/boot");
		bool ok = unmounted.starts_with("/boot is a filesystem of its own (" + (r / "etc/fstab").string() +
						":3: UUID=1111 on /boot), and it is not mounted on " + (r / "boot").string());
		// The ESP under /boot: /boot is checked first, being above it.
		ok = ok && mounts_verdict(root, "/boot/efi").starts_with("/boot is a filesystem of its own");
		if (::mount("tmpfs", (r / "boot").c_str(), "tmpfs", 0, "size=1m") != 0)
			return false;
		fs::create_directories(r / "boot/efi");
		ok = ok && mounts_verdict(root, "/boot").empty();
		ok = ok && mounts_verdict(root, "/boot/efi").starts_with("/boot/efi is a filesystem of its own (" +
									(r / "etc/fstab").string() + ":4: UUID=2222 on /boot/efi)");
		if (::mount("tmpfs", (r / "boot/efi").c_str(), "tmpfs", 0, "size=1m") != 0)
			return false;
		return ok && mounts_verdict(root, "/boot/efi").empty() && mounts_verdict(root, "/efi").empty();
	});
	if (status == 2) {
		WARN("skipped: no mount namespace here");
		return;
	}
	CHECK(status == 0);
}
