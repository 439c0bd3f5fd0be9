// Which error codes of Node's TLS layer mean that the peer's certificate or the TLS setup itself failed: waiting and
// trying again will not help, an operator has to act. Shared by the SMTP client and the web request client.
const TLS_FAILURE = /^(CERT_|DEPTH_ZERO_|SELF_SIGNED_|UNABLE_TO_|HOSTNAME_MISMATCH|ERR_TLS_|ERR_SSL_|ERR_OSSL_)/;

export function isTlsFailureCode(code: string | undefined): boolean {
  return code !== undefined && TLS_FAILURE.test(code);
}
