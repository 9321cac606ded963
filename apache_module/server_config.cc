#include "server_config.h"

#include <apr_strings.h>

#include <exception>
#include <new>
#include <string>

#include "pyfresh/config.h"
#include "pyfresh/status.h"

namespace pyfresh::apache {
namespace {

apr_status_t DeleteConfig(void* data) {
  delete static_cast<Config*>(data);
  return APR_SUCCESS;
}

// Allocates a record in `pool` owning `config` (taken over, even on failure).
ServerConfig* NewRecord(apr_pool_t* pool, Config* config) {
  if (config == nullptr) {
    return nullptr;
  }
  // The cleanup is registered first, so `config` is freed with the pool
  // whatever happens next.
  apr_pool_cleanup_register(pool, config, DeleteConfig, apr_pool_cleanup_null);
  auto* server = static_cast<ServerConfig*>(apr_pcalloc(pool, sizeof(ServerConfig)));
  server->config = config;
  server->environment_value = nullptr;
  return server;
}

const char* CopyMessage(apr_pool_t* pool, const std::string& message) {
  return apr_pstrmemdup(pool, message.data(), message.size());
}

}  // namespace

ServerConfig* CreateServerConfig(apr_pool_t* pool) {
  try {
    return NewRecord(pool, new Config());
  } catch (...) {
    return nullptr;
  }
}

ServerConfig* MergeServerConfigs(apr_pool_t* pool, const ServerConfig* parent,
                                 const ServerConfig* child) {
  if (parent == nullptr || child == nullptr) {
    return nullptr;
  }
  try {
    return NewRecord(pool, new Config(MergeConfig(*parent->config, *child->config)));
  } catch (...) {
    return nullptr;
  }
}

const char* SetOption(apr_pool_t* pool, ServerConfig* server, const char* option,
                      const char* directive, const char* value) {
  if (server == nullptr) {
    return apr_psprintf(pool, "%s: mod_pyfresh has no configuration record (out of memory?)",
                        directive);
  }
  try {
    Status status = server->config->Set(option, value, directive);
    return status.ok() ? nullptr : CopyMessage(pool, status.message());
  } catch (const std::exception& e) {
    return apr_psprintf(pool, "%s %s: mod_pyfresh internal error: %s", directive, value, e.what());
  } catch (...) {
    return apr_psprintf(pool, "%s %s: mod_pyfresh internal error", directive, value);
  }
}

const char* ResolveServerConfig(apr_pool_t* pool, ServerConfig* server) {
  if (server == nullptr) {
    return "mod_pyfresh has no configuration record (out of memory?)";
  }
  try {
    server->environment_value = nullptr;
    std::string text = SerializeConfig(*server->config);
    if (text.empty()) {
      return nullptr;  // pyfresh is not configured for this server
    }
    Status status = server->config->Validate();
    if (!status.ok()) {
      return CopyMessage(pool, status.message());
    }
    server->environment_value = CopyMessage(pool, text);
    return nullptr;
  } catch (const std::exception& e) {
    return apr_psprintf(pool, "mod_pyfresh internal error: %s", e.what());
  } catch (...) {
    return "mod_pyfresh internal error";
  }
}

}  // namespace pyfresh::apache
