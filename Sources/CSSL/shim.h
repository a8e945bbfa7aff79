#ifndef TRIBUTARY_CSSL_SHIM_H
#define TRIBUTARY_CSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>

/// SSL_CTX_set_min_proto_version is a macro; Swift cannot call it.
static inline int tributary_ssl_ctx_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}
#endif
