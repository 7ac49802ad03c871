#ifndef TILL_CURL_SHIM_H
#define TILL_CURL_SHIM_H
#include <curl/curl.h>
#include <stddef.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one typed
   wrapper per kind of argument. */
CURLcode till_curl_set_long(CURL *h, CURLoption opt, long value);
CURLcode till_curl_set_string(CURL *h, CURLoption opt, const char *value);
CURLcode till_curl_set_pointer(CURL *h, CURLoption opt, void *value);
CURLcode till_curl_set_slist(CURL *h, CURLoption opt, struct curl_slist *value);
CURLcode till_curl_set_write_function(CURL *h, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode till_curl_set_read_function(CURL *h, size_t (*fn)(char *, size_t, size_t, void *));
CURLcode till_curl_get_long(CURL *h, CURLINFO info, long *value);
#endif
