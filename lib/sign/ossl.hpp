// Owners of libcrypto objects for lib/sign (private).
#pragma once

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <filesystem>
#include <memory>
#include <string>

namespace distkernel::ossl {

struct BioFree {
	void operator()(BIO *b) const { BIO_free(b); }
};
struct KeyFree {
	void operator()(EVP_PKEY *k) const { EVP_PKEY_free(k); }
};
struct CertFree {
	void operator()(X509 *c) const { X509_free(c); }
};
struct CmsFree {
	void operator()(CMS_ContentInfo *c) const { CMS_ContentInfo_free(c); }
};
struct CertsFree {
	void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
struct StoreFree {
	void operator()(X509_STORE *s) const { X509_STORE_free(s); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;
using Cms = std::unique_ptr<CMS_ContentInfo, CmsFree>;
using Certs = std::unique_ptr<STACK_OF(X509), CertsFree>;
using Store = std::unique_ptr<X509_STORE, StoreFree>;

// A read-only BIO over data (which must outlive it).
Bio memory_bio(const std::string &data);
// A certificate in PEM or DER; null when data is neither.
Cert parse_certificate(const std::string &data);

} // namespace distkernel::ossl
