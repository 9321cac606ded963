// mod_pyfresh: carries pyfresh's configuration from httpd.conf into every
// request. The directives fill a core pyfresh::Config per server (the core
// validates each value as it is read, so `apachectl -t` reports a bad one
// naming the directive); a fixups hook puts the resolved configuration into
// the request's environment as PYFRESH_CONFIG, which mod_wsgi hands to the
// WSGI environ in embedded and daemon mode. pyfresh's generic entry script
// (pyfresh.wsgi) reads it there and runs the Python engine in the process
// that runs the app.
//
// Python stays out of this module: an Apache hook would reach the wrong
// interpreter in embedded mode, a different process in daemon mode, and no
// interpreter at all under `WSGIRestrictEmbedded On`.
//
// This file keeps the directive table, the config create/merge functions and
// the hooks; the configuration logic is in server_config.cc.

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_request.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "server_config.h"

// Only this symbol leaves the shared object (see mod_pyfresh.map); the build
// hides everything by default, so it is marked visible explicitly.
extern "C" {
extern __attribute__((visibility("default"))) module AP_MODULE_DECLARE_DATA pyfresh_module;
}

APLOG_USE_MODULE(pyfresh);

namespace {

using pyfresh::apache::ServerConfig;

// The environment variable (and so the WSGI environ key) carrying the
// serialized configuration. pyfresh/hosts/mod_wsgi.py reads the same name.
constexpr char kEnvironmentName[] = "PYFRESH_CONFIG";

ServerConfig* GetServerConfig(server_rec* server) {
  return static_cast<ServerConfig*>(ap_get_module_config(server->module_config, &pyfresh_module));
}

// ---------------------------------------------------------------------------
// Configuration records

void* pyfresh_create_server_config(apr_pool_t* pool, server_rec* /*server*/) {
  return pyfresh::apache::CreateServerConfig(pool);
}

// httpd calls this once per <VirtualHost> after the whole file is read, with
// the main server's record as `base` (ap_fixup_virtual_hosts).
void* pyfresh_merge_server_config(apr_pool_t* pool, void* base, void* add) {
  return pyfresh::apache::MergeServerConfigs(pool, static_cast<const ServerConfig*>(base),
                                             static_cast<const ServerConfig*>(add));
}

// ---------------------------------------------------------------------------
// Directives. cmd->info holds the core option name; the directive's own name
// (cmd->cmd->name) is what the core quotes in its error message, which httpd
// prints with the file and line of the offending directive.

const char* pyfresh_set_option(cmd_parms* cmd, void* /*directory_config*/, const char* value) {
  return pyfresh::apache::SetOption(cmd->pool, GetServerConfig(cmd->server),
                                    static_cast<const char*>(cmd->info), cmd->cmd->name, value);
}

// In C++ httpd's cmd_func is `const char* (*)()`: the handler is cast to it
// through the generic `void (*)()`, and httpd calls it with the TAKE1 /
// ITERATE signature it was declared with.
using GenericFunction = void (*)();
#define PYFRESH_HANDLER \
  reinterpret_cast<cmd_func>(reinterpret_cast<GenericFunction>(pyfresh_set_option))
#define PYFRESH_TAKE1(directive, option, help) \
  AP_INIT_TAKE1(directive, PYFRESH_HANDLER, const_cast<char*>(option), RSRC_CONF, help)
#define PYFRESH_ITERATE(directive, option, help) \
  AP_INIT_ITERATE(directive, PYFRESH_HANDLER, const_cast<char*>(option), RSRC_CONF, help)

const command_rec pyfresh_directives[] = {
    PYFRESH_TAKE1("PyFresh", "enabled",
                  "On|Off: reload the app's changed Python code before a request (On), or run "
                  "the app untouched (Off)"),
    PYFRESH_TAKE1("PyFreshApp", "app",
                  "The WSGI app the entry script serves: package.module[:callable] or "
                  "/path/to/file.wsgi[:callable]; callable defaults to 'application'"),
    PYFRESH_ITERATE("PyFreshPackages", "packages",
                    "Package prefixes whose modules are reloaded on change (space- or "
                    "comma-separated; repeating the directive appends); default: inferred, "
                    "every package the app imports from outside the stdlib and site-packages"),
    PYFRESH_ITERATE("PyFreshExclude", "exclude",
                    "Modules under PyFreshPackages kept across reloads, e.g. settings "
                    "(space- or comma-separated; repeating the directive appends)"),
    PYFRESH_TAKE1("PyFreshDebug", "debug",
                  "On|Off: error responses show the traceback of a failed reload"),
    PYFRESH_TAKE1("PyFreshPollInterval", "poll-interval",
                  "Seconds (0, 0.5, 2s, 250ms): watch files by stat polling instead of inotify, "
                  "checking them at most once per interval"),
    PYFRESH_ITERATE("PyFreshWatch", "watch",
                    "Files, directories (recursive) or glob patterns whose change reloads the app, "
                    "e.g. templates \".env*\"; relative to the app's directory; one path per "
                    "argument (quote paths with spaces); repeating the directive appends"),
    PYFRESH_ITERATE("PyFreshWatchIgnore", "watch-ignore",
                    "File-name patterns (fnmatch, e.g. \"*.bak\") that PyFreshWatch and PyFreshRestartOn "
                    "skip, besides editors' and VCS files; one pattern per argument; repeating the "
                    "directive appends"),
    PYFRESH_ITERATE("PyFreshRestartOn", "restart-on",
                    "Files, directories or glob patterns whose change restarts the daemon process "
                    "instead of reloading (compiled extensions under the packages always do); same "
                    "syntax as PyFreshWatch"),
    PYFRESH_ITERATE("PyFreshIntegrations", "integrations",
                    "Framework integrations: On (every one, the default), Off, or the names of those "
                    "to use (django flask bottle, or your own)"),
    PYFRESH_TAKE1("PyFreshReloadScope", "reload-scope",
                  "Packages|Dependents: what a reload clears: every module of the packages (the "
                  "default), or the changed modules and those importing them (falling back to the "
                  "packages when the import graph cannot tell)"),
    PYFRESH_TAKE1("PyFreshDrainTimeout", "drain-timeout",
                  "Seconds (0.5, 2s, 250ms; default 1): how long a reload waits for requests still "
                  "running (streaming responses until closed) before it goes ahead; new requests "
                  "wait meanwhile"),
    PYFRESH_TAKE1("PyFreshLiveReload", "live-reload",
                  "On|Off (default Off; for development): open HTML pages reload by themselves after "
                  "a save; /_pyfresh/ answers their change checks"),
    {nullptr, {nullptr}, nullptr, 0, RAW_ARGS, nullptr},
};

#undef PYFRESH_TAKE1
#undef PYFRESH_ITERATE
#undef PYFRESH_HANDLER

// ---------------------------------------------------------------------------
// Hooks

const char* DescribeServer(apr_pool_t* pool, const server_rec* server) {
  if (!server->is_virtual) {
    return "the main server configuration";
  }
  return apr_psprintf(pool, "<VirtualHost> %s (%s:%u)",
                      server->server_hostname ? server->server_hostname : "(no ServerName)",
                      server->defn_name ? server->defn_name : "?", server->defn_line_number);
}

// Runs after every virtual host has been merged with the main server, both
// for `apachectl -t` and before each (re)start, so the cross-option checks
// see what a request will get, and a bad combination stops httpd from
// starting instead of failing requests.
int pyfresh_hook_check_config(apr_pool_t* pconf, apr_pool_t* /*plog*/, apr_pool_t* ptemp,
                              server_rec* main_server) {
  int result = OK;
  for (server_rec* server = main_server; server != nullptr; server = server->next) {
    const char* error = pyfresh::apache::ResolveServerConfig(pconf, GetServerConfig(server));
    if (error != nullptr) {
      ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, nullptr,
                   "mod_pyfresh: [PF-A001] %s: %s", DescribeServer(ptemp, server), error);
      result = HTTP_INTERNAL_SERVER_ERROR;
    }
  }
  return result;
}

// APR_HOOK_LAST: after mod_env's SetEnv/UnsetEnv, mod_setenvif and anything
// else that edits the environment, so PYFRESH_CONFIG is exactly what
// mod_pyfresh resolved for this server, and absent where it resolved nothing.
int pyfresh_hook_fixups(request_rec* request) {
  const ServerConfig* server = GetServerConfig(request->server);
  if (server != nullptr && server->environment_value != nullptr) {
    apr_table_setn(request->subprocess_env, kEnvironmentName, server->environment_value);
  } else {
    apr_table_unset(request->subprocess_env, kEnvironmentName);
  }
  return DECLINED;
}

// Names the module and its version in httpd's startup line ("Apache/2.4.62
// (Debian) mod_wsgi/4.9.4 Python/3.11 mod_pyfresh/0.1.0 configured").
int pyfresh_hook_post_config(apr_pool_t* pconf, apr_pool_t* /*plog*/, apr_pool_t* /*ptemp*/,
                             server_rec* /*server*/) {
  ap_add_version_component(pconf, "mod_pyfresh/" PYFRESH_VERSION);
  return OK;
}

void pyfresh_register_hooks(apr_pool_t* /*pool*/) {
  ap_hook_post_config(pyfresh_hook_post_config, nullptr, nullptr, APR_HOOK_MIDDLE);
  ap_hook_check_config(pyfresh_hook_check_config, nullptr, nullptr, APR_HOOK_MIDDLE);
  ap_hook_fixups(pyfresh_hook_fixups, nullptr, nullptr, APR_HOOK_LAST);
}

}  // namespace

extern "C" {
// STANDARD20_MODULE_STUFF spelled out, to name the module "mod_pyfresh.c"
// (httpd's convention, matched by <IfModule mod_pyfresh.c> and shown by -L)
// rather than this file's name.
__attribute__((visibility("default"))) module AP_MODULE_DECLARE_DATA pyfresh_module = {
    MODULE_MAGIC_NUMBER_MAJOR,
    MODULE_MAGIC_NUMBER_MINOR,
    -1,
    "mod_pyfresh.c",
    nullptr,
    nullptr,
    MODULE_MAGIC_COOKIE,
    nullptr,
    nullptr,                       // per-directory config: pyfresh is per server
    nullptr,                       // per-directory merge
    pyfresh_create_server_config,  // per-server config
    pyfresh_merge_server_config,   // per-server merge
    pyfresh_directives,
    pyfresh_register_hooks,
    AP_MODULE_FLAG_NONE,
};
}
