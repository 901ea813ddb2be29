#include "provision/recipe.hpp"

#include <algorithm>

namespace jaild::provision {

namespace {

constexpr int kPostgresPort = 5432;

RecipeFile file(std::string path, std::string content, unsigned mode = 0644,
                std::string owner = "") {
    return RecipeFile{std::move(path), std::move(content), mode, false, std::move(owner)};
}

RecipeFile directory(std::string path, unsigned mode, std::string owner) {
    return RecipeFile{std::move(path), "", mode, true, std::move(owner)};
}

std::string hostname_of(const config::JailConfig& jail) {
    return jail.hostname.empty() ? jail.name : jail.hostname;
}

std::vector<RecipeFile> common_files(const config::JailConfig& jail) {
    return {file("/etc/hostname", hostname_of(jail) + "\n"),
            file("/etc/hosts",
                 "127.0.0.1\tlocalhost\n" + jail.address.str() + "\t" + hostname_of(jail) + "\n")};
}

// No cron runs in a jail and nothing rotates its /var/log: Apache's own logs go through its
// rotatelogs (apache2-utils, a dependency of apache2), run by Apache inside the jail, under the
// jail's containment. Each log is a link (-L) to the file being written, named by the time it
// was opened; rotatelogs opens a new one when it reaches max_size or a day (UTC midnight) and
// then runs kRotatedScript, which compresses the others and keeps the newest `keep`. A restart
// opens a new file too. Both directives are the server's, so every virtual host without logs
// of its own (the recipe's are such) writes there; Debian's other_vhosts_access.log is off.
constexpr const char* kRotatedScript = "/etc/jaild/apache-rotated-log";

std::vector<RecipeFile> apache_log_files(const config::LogRotation& logs) {
    auto through_rotatelogs = [&](const std::string& name) {
        return "\"|/usr/bin/rotatelogs -f -L ${APACHE_LOG_DIR}/" + name + " -p " + kRotatedScript +
               " ${APACHE_LOG_DIR}/" + name + ".%Y%m%d-%H%M%S 86400 " + logs.max_size + "\"";
    };
    const std::string conf =
        "# Written by jaild (recipe \"apache\"; jaild.json(5) provision.logs).\n"
        "ErrorLog " +
        through_rotatelogs("error.log") + "\n" + "CustomLog " + through_rotatelogs("access.log") +
        " combined\n";
    // rotatelogs runs it with the file it has just opened as $1 (not waiting for it).
    const std::string script =
        "#!/bin/sh\n"
        "# Written by jaild (recipe \"apache\"): rotatelogs -p runs this after opening $1, a new\n"
        "# log file NAME.TIME: every other NAME.* file is compressed, the newest " +
        std::to_string(logs.keep) +
        " compressed\n# ones are kept.\n"
        "current=$1\n"
        "base=${current%.*}\n"
        "for f in \"$base\".*; do\n"
        "\tcase $f in \"$current\" | *.gz) ;; *) [ -f \"$f\" ] && gzip -f -- \"$f\" ;; esac\n"
        "done\n"
        "ls -1t -- \"$base\".*.gz 2>/dev/null | tail -n +" +
        std::to_string(logs.keep + 1) +
        " | while read -r f; do rm -f -- \"$f\"; done\n"
        "exit 0\n";
    return {file("/etc/apache2/conf-enabled/jaild-logs.conf", conf),
            file("/etc/apache2/conf-available/other-vhosts-access-log.conf",
                 "# Emptied by jaild (recipe \"apache\"): every host logs to access.log "
                 "(conf-enabled/jaild-logs.conf).\n"),
            directory("/etc/jaild", 0755, ""), file(kRotatedScript, script, 0755)};
}

std::string apache_virtual_host(const config::JailConfig& jail, int port, bool tls) {
    std::string host =
        "<VirtualHost " + jail.address.str() + ":" + std::to_string(port) +
        ">\n"
        "\tServerName " +
        hostname_of(jail) +
        "\n"
        "\tServerAdmin webmaster@localhost\n"
        "\tDocumentRoot /var/www/html\n"
        "\t# Logs: the server's, through rotatelogs (conf-enabled/jaild-logs.conf).\n";
    if (tls) {
        const bool own = jail.tls.has_value();
        host += std::string("\tSSLEngine on\n") + "\tSSLCertificateFile " +
                (own ? kJaildCertificateFile : kApacheCertificateFile) +
                "\n\tSSLCertificateKeyFile " + (own ? kJaildKeyFile : kApacheKeyFile) + "\n";
    }
    return host + "</VirtualHost>\n";
}

// The site: plain HTTP on 80 (or the first published port other than 443), and HTTPS on 443
// when it is published.
std::string apache_site(const config::JailConfig& jail, const std::vector<int>& ports) {
    std::string site = "# Written by jaild (recipe \"apache\").\n";
    int plain = 0;
    for (int port : ports) {
        if (port != 443 && plain == 0) plain = port;
    }
    if (std::find(ports.begin(), ports.end(), 80) != ports.end()) plain = 80;
    if (plain != 0) site += apache_virtual_host(jail, plain, false);
    if (apache_serves_tls(jail))
        site += "<IfModule ssl_module>\n" + apache_virtual_host(jail, 443, true) + "</IfModule>\n";
    return site;
}

std::vector<RecipeFile> apache_files(const config::JailConfig& jail) {
    const std::string addr = jail.address.str();
    std::vector<int> ports = jail.publish;
    if (ports.empty()) ports.push_back(80);
    std::string listen =
        "# Written by jaild (recipe \"apache\"): listen on the jail's address only.\n";
    for (int port : ports) {
        std::string line = "Listen " + addr + ":" + std::to_string(port) + "\n";
        if (port == 443) line = "<IfModule ssl_module>\n\t" + line + "</IfModule>\n";
        listen += line;
    }
    auto files = common_files(jail);
    files.push_back(file("/etc/apache2/ports.conf", listen));
    if (apache_serves_tls(jail)) {
        // What `a2enmod ssl` would link, as files that include the module's own (RecipeFile
        // writes files, not symlinks). mods-enabled/*.load are read before *.conf.
        files.push_back(file("/etc/apache2/mods-enabled/jaild-ssl.load",
                             "# Written by jaild (recipe \"apache\"): mod_ssl for port 443.\n"
                             "Include /etc/apache2/mods-available/socache_shmcb.load\n"
                             "Include /etc/apache2/mods-available/ssl.load\n"));
        files.push_back(file("/etc/apache2/mods-enabled/jaild-ssl.conf",
                             "# Written by jaild (recipe \"apache\").\n"
                             "Include /etc/apache2/mods-available/ssl.conf\n"));
    }
    files.push_back(
        file("/etc/apache2/conf-enabled/jaild-servername.conf",
             "# Written by jaild (recipe \"apache\").\nServerName " + hostname_of(jail) + "\n"));
    files.push_back(
        file("/etc/apache2/sites-available/000-default.conf", apache_site(jail, ports)));
    // firejail mounts a fresh /var/log unless --writable-var-log; on disk the directory is
    // missing after debootstrap + apt, and Apache refuses to start without it.
    files.push_back(directory("/var/log/apache2", 0750, ""));
    for (auto& f : apache_log_files(jail.provision->logs)) files.push_back(std::move(f));
    return files;
}

Result<std::vector<RecipeFile>> postgres_files(const config::JailConfig& jail,
                                               const config::Config& config,
                                               const RecipeContext& context) {
    if (context.postgres_version.empty()) {
        return make_error("recipe \"postgresql\" of jail '" + jail.name +
                          "': no PostgreSQL server in the root (/usr/lib/postgresql/VERSION is "
                          "missing); add \"postgresql\" to provision.packages");
    }
    const std::string etc = "/etc/postgresql/" + context.postgres_version + "/main";
    std::string conf =
        "# Written by jaild (recipe \"postgresql\"); read after postgresql.conf (include_dir).\n"
        "listen_addresses = '" +
        jail.address.str() +
        "'\n"
        "port = " +
        std::to_string(kPostgresPort) +
        "\n"
        "logging_collector = on\n"
        "log_directory = '/var/log/postgresql'\n"
        "log_filename = 'postgresql-%Y-%m-%d.log'\n"
        "log_file_mode = 0640\n"
        "password_encryption = scram-sha-256\n";
    std::string hba =
        "# Written by jaild (recipe \"postgresql\"). Local connections: the system user of the\n"
        "# same name. Over the network only the jails whose \"accept\" lists port 5432, each\n"
        "# from its own address (/32) to its own database as its own role, with its password\n"
        "# (scram-sha-256; jaild wrote it into that jail's root, see jaild.json(5)). First, the\n"
        "# host's health probe, which stops at the password request. Names are quoted: a\n"
        "# quoted name is never a keyword.\n"
        "local\tall\tall\t\t\tpeer\n"
        "host\t\"postgres\"\t\"" +
        std::string(kProbeRole) + "\"\t" + config.bridge.address.address.str() +
        "/32\tscram-sha-256\n";
    for (const auto& g : postgres_grants(jail, config)) {
        hba +=
            "host\t\"" + g.name + "\"\t\"" + g.name + "\"\t" + g.address + "/32\tscram-sha-256\n";
    }
    auto files = common_files(jail);
    files.push_back(file(etc + "/conf.d/jaild.conf", conf));
    files.push_back(file(etc + "/pg_hba.conf", hba, 0640, "postgres"));
    files.push_back(directory("/var/log/postgresql", 01775, "postgres"));
    return files;
}

}  // namespace

bool apache_serves_tls(const config::JailConfig& jail) {
    return jail.provision && jail.provision->recipe == "apache" &&
           std::find(jail.publish.begin(), jail.publish.end(), 443) != jail.publish.end();
}

std::vector<std::string> recipe_packages(const config::JailConfig& jail) {
    if (apache_serves_tls(jail) && !jail.tls) return {"ssl-cert"};
    return {};
}

std::vector<DatabaseGrant> postgres_grants(const config::JailConfig& jail,
                                           const config::Config& config) {
    std::vector<DatabaseGrant> grants;
    for (const auto& rule : jail.accept) {
        if (std::find(rule.ports.begin(), rule.ports.end(), kPostgresPort) == rule.ports.end())
            continue;
        auto it = config.jails.find(rule.from);
        if (it == config.jails.end()) continue;  // validated away; be safe
        grants.push_back({rule.from, it->second.address.str(), ""});
    }
    return grants;
}

namespace {

// A SQL string literal ('' doubles a quote; passwords are [A-Za-z0-9] anyway).
std::string sql_literal(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

// libpq password file fields escape ':' and '\\'.
std::string pgpass_field(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == ':' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

std::string postgres_init_sql(const std::vector<DatabaseGrant>& grants) {
    std::string sql = "SET password_encryption = 'scram-sha-256';\n";
    for (const auto& g : grants) {
        // Names are jail names (^[a-z][a-z0-9-]*$): quoted because of '-'.
        sql += "CREATE ROLE \"" + g.name + "\" LOGIN PASSWORD " + sql_literal(g.password) + ";\n";
        sql += "CREATE DATABASE \"" + g.name + "\" OWNER \"" + g.name + "\";\n";
    }
    return sql;
}

std::vector<PgpassEntry> pgpass_entries(const std::string& client, const config::Config& config) {
    std::vector<PgpassEntry> entries;
    for (const auto& [name, jail] : config.jails) {
        if (!jail.provision || jail.provision->recipe != "postgresql") continue;
        for (const auto& g : postgres_grants(jail, config)) {
            if (g.name == client) entries.push_back({name, jail.address.str(), client, ""});
        }
    }
    return entries;
}

std::string pgpass_text(const std::vector<PgpassEntry>& entries) {
    std::string text;
    for (const auto& e : entries) {
        text += pgpass_field(e.host) + ":" + std::to_string(kPostgresPort) + ":" +
                pgpass_field(e.database) + ":" + pgpass_field(e.database) + ":" +
                pgpass_field(e.password) + "\n";
    }
    return text;
}

std::vector<RecipeFile> pgpass_files(const config::JailConfig& client,
                                     const std::vector<PgpassEntry>& entries) {
    if (entries.empty()) return {};
    std::string text = pgpass_text(entries);
    std::vector<RecipeFile> files{directory("/etc/jaild", 0755, ""),
                                  file(kRootPgpassFile, text, 0600)};
    if (client.provision && client.provision->recipe == "apache")
        files.push_back(file(kApachePgpassFile, text, 0600, "www-data"));
    return files;
}

Result<std::vector<RecipeFile>> recipe_files(const config::JailConfig& jail,
                                             const config::Config& config,
                                             const RecipeContext& context) {
    if (!jail.provision || jail.provision->recipe.empty()) return std::vector<RecipeFile>{};
    const auto& recipe = jail.provision->recipe;
    if (recipe == "apache") return apache_files(jail);
    if (recipe == "postgresql") return postgres_files(jail, config, context);
    return make_error("jail '" + jail.name + "': unknown recipe \"" + recipe +
                      "\"; use \"apache\", \"postgresql\" or \"\"");
}

}  // namespace jaild::provision
