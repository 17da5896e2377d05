// Either Catch2 (3 on Gentoo, 2.13 on Debian 12).
#pragma once
#ifdef DISTKERNEL_CATCH3
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#else
#include <catch2/catch.hpp>
#endif
