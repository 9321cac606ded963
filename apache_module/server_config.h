// mod_pyfresh's per-server record: the core config a server (the main
// server or a <VirtualHost>) collected from its directives, and, once the
// configuration is complete, the text every request of that server carries.
//
// Every function here is callable from C hooks: none lets a C++ exception
// escape, and every C++ object is owned by an APR pool (a pool cleanup
// deletes it), so nothing outlives the configuration generation that made it.
#ifndef PYFRESH_APACHE_SERVER_CONFIG_H_
#define PYFRESH_APACHE_SERVER_CONFIG_H_

#include <apr_pools.h>

namespace pyfresh {
struct Config;
}

namespace pyfresh::apache {

struct ServerConfig {
  // Owned through a cleanup on the pool that allocated this record. Never
  // null in a record returned by the functions below.
  Config* config;
  // Set by ResolveServerConfig: SerializeConfig(*config), or null when the
  // server sets no pyfresh option (and inherits none), so its requests stay
  // untouched. Allocated in the configuration pool.
  const char* environment_value;
};

// An empty record (every option unset). Null only when out of memory.
ServerConfig* CreateServerConfig(apr_pool_t* pool);

// child-if-set-else-parent, through the core's MergeConfig: a virtual host
// inherits what it leaves unset; a list it sets replaces the parent's list.
// Null only when out of memory or when an input is null.
ServerConfig* MergeServerConfigs(apr_pool_t* pool, const ServerConfig* parent,
                                 const ServerConfig* child);

// Applies one directive: `option` is the core option name ("packages"),
// `directive` the Apache name used in messages ("PyFreshPackages"). Returns
// null on success or the core's message (naming the directive and the
// value), allocated in `pool`.
const char* SetOption(apr_pool_t* pool, ServerConfig* server, const char* option,
                      const char* directive, const char* value);

// Runs the core's cross-option checks on a server's complete (merged) config
// and fills `environment_value`. Returns null on success or the core's
// message, allocated in `pool`.
const char* ResolveServerConfig(apr_pool_t* pool, ServerConfig* server);

}  // namespace pyfresh::apache

#endif  // PYFRESH_APACHE_SERVER_CONFIG_H_
