# Copyright 2026 The distkernel authors
# Distributed under the terms of the GNU General Public License v2

EAPI=8

DESCRIPTION="Virtual to depend on any distribution kernel (for external module rebuilds)"
# The subslot changes with every kernel version, so that packages depending on
# virtual/dist-kernel:= (ZFS, nvidia, ...) are rebuilt on every kernel upgrade.
SLOT="0/${PVR}"
KEYWORDS="~amd64"

RDEPEND="
	|| (
		~sys-kernel/gentoo-kernel-${PV}
		~sys-kernel/vanilla-kernel-${PV}
		~sys-kernel/gentoo-kernel-bin-${PV}
	)
"
