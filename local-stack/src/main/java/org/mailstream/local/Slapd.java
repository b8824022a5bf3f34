package org.mailstream.local;

import com.unboundid.ldap.sdk.LDAPConnection;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.SearchRequest;
import com.unboundid.ldap.sdk.SearchResultEntry;
import com.unboundid.ldap.sdk.SearchScope;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * A private OpenLDAP slapd (the Debian package) in a temporary directory, on a free loopback
 * port plus an ldapi socket, in the foreground so that it is stopped by its pid. The directory
 * holds the project's schema and the very indexes, limits and access rules the project ships
 * (mailstore.database.ldif, applied with ldapmodify as an operator would), a service account
 * for store-worker, a lookup account for Postfix's ldap: table and an empty {@value #PEOPLE} subtree for mailbox owners.
 */
public final class Slapd implements AutoCloseable {

    public static final String SUFFIX = "dc=example,dc=com";
    public static final String PEOPLE = "ou=people," + SUFFIX;
    public static final String ROOT_DN = "cn=admin," + SUFFIX;
    public static final String ROOT_PASSWORD = "admin-secret";
    public static final String SERVICE_DN = "cn=store-worker," + SUFFIX;
    public static final String SERVICE_PASSWORD = "worker-secret";
    public static final String LOOKUP_DN = "cn=postfix," + SUFFIX;
    public static final String LOOKUP_PASSWORD = "postfix-secret";
    private static final DateTimeFormatter CSN_TIME = DateTimeFormatter.ofPattern("yyyyMMddHHmmss.SSSSSS");

    /** The configuration Debian's slapd package writes at installation, with its placeholders. */
    private static final String DEBIAN_INIT_LDIF = "/usr/share/slapd/slapd.init.ldif";
    private static final String FAKETIME_LIBRARY = "/usr/lib/" + ("aarch64".equals(System.getProperty("os.arch")) ? "aarch64" : "x86_64")
            + "-linux-gnu/faketime/libfaketimeMT.so.1";
    private static final String SCHEMA_RESOURCE = "/org/mailstream/schemas/mailstore.cnconfig.ldif";
    /** Where the LDIFs the project ships for a directory's database are on the class path. */
    private static final String SHIPPED = "/org/mailstream/schemas/";

    private final Path directory;
    private final int port;
    private final int ldapsPort;
    private final long maxIncomingBytes;
    private final TestCertificates certificates;
    /** This provider's olcServerID, and its peers in multi-provider replication (none for a lone slapd). */
    private int serverId = 1;
    private List<Slapd> peers = List.of();
    private boolean projectSchema = true;
    /** What the project's schema is made into before it is loaded: as a back end not yet upgraded to this release has it. */
    private UnaryOperator<String> schemaEdit = UnaryOperator.identity();
    /** How far slapd's clock runs behind this machine's (libfaketime); zero for the machine's own. */
    private Duration clockBehind = Duration.ZERO;
    private ManagedProcess process;

    private Slapd(Path directory, long maxIncomingBytes, TestCertificates certificates) {
        this.directory = directory;
        this.port = FreePort.next();
        this.ldapsPort = certificates == null ? 0 : FreePort.next();
        this.maxIncomingBytes = maxIncomingBytes;
        this.certificates = certificates;
    }

    /** A durable slapd (mdb syncs every write) accepting authenticated writes up to 16 MiB - 1. */
    public static Slapd start() {
        return start(16_777_215);
    }

    /** A slapd whose olcSockbufMaxIncomingAuth is {@code maxIncomingBytes}. */
    public static Slapd start(long maxIncomingBytes) {
        return start(maxIncomingBytes, null, UnaryOperator.identity());
    }

    /** A slapd that also offers StartTLS, and ldaps on {@link #ldapsUrl()}, with {@code certificates}' server certificate. */
    public static Slapd startWithTls(TestCertificates certificates) {
        return start(16_777_215, certificates, UnaryOperator.identity());
    }

    /**
     * A slapd as an operator might have left it: the system's schemas only, without the project's
     * schema and hence without its indexes and access rules (every account may read).
     */
    public static Slapd startWithoutProjectSchema() {
        try {
            Slapd slapd = new Slapd(Files.createTempDirectory("slapd"), 16_777_215, null);
            slapd.projectSchema = false;
            slapd.configure(true);
            slapd.launch();
            return slapd;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up slapd", e);
        }
    }

    /**
     * A slapd with the project's schema as {@code edit} makes it, such as {@link #withoutType}: a
     * back end whose schema an operator has not (or not wholly) upgraded to this release.
     */
    public static Slapd startWithSchema(UnaryOperator<String> edit) {
        return start(16_777_215, null, edit);
    }

    /** {@code schema} (an LDIF of cn=config) without {@code attributeType}: neither its definition nor its place in a class. */
    public static String withoutType(String schema, String attributeType) {
        return schema.lines().filter(line -> !line.contains("NAME '" + attributeType + "'"))
                .map(line -> line.replace(" $ " + attributeType + " ", " ")).collect(Collectors.joining("\n", "", "\n"));
    }

    /**
     * A slapd configured as Debian's slapd package configures one, from the package's own
     * {@value #DEBIAN_INIT_LDIF} (its stock indexes, and a rule that lets anyone read everything),
     * then set up the way docs/ldap.md tells an operator: the schema added and
     * mailstore.database.ldif applied with ldapmodify -Y EXTERNAL over ldapi.
     */
    public static Slapd startFromDebianPackageConfiguration() {
        try {
            Slapd slapd = new Slapd(Files.createTempDirectory("slapd"), 0, null);
            String stock = Files.readString(Path.of(DEBIAN_INIT_LDIF));
            Files.createDirectories(slapd.directory.resolve("slapd.d"));
            Files.createDirectories(slapd.directory.resolve("data"));
            Files.writeString(slapd.directory.resolve("config.ldif"), stock
                    .replace("/var/run/slapd/", slapd.directory + "/").replace("/var/lib/ldap", slapd.directory + "/data")
                    .replace("@SUFFIX@", SUFFIX).replace("@PASSWORD@", ROOT_PASSWORD));
            slapd.loadConfigAndEntries(true);
            slapd.launch();
            Path schema = slapd.directory.resolve("mailstore.cnconfig.ldif");
            copyResource(SCHEMA_RESOURCE, schema);
            slapd.run(List.of("ldapmodify", "-a", "-Q", "-Y", "EXTERNAL", "-H", slapd.ldapiUrl(), "-f", schema.toString()));
            slapd.applyShipped("mailstore.database.ldif");
            return slapd;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up slapd from " + DEBIAN_INIT_LDIF, e);
        }
    }

    /**
     * A slapd whose clock runs {@code behind} this machine's by whole seconds, as a directory on
     * another host may: it runs under libfaketime (Debian's faketime package), so that what it
     * stamps on entries (createTimestamp, entryCSN) is that much earlier.
     */
    public static Slapd startWithClockBehind(Duration behind) {
        return start(16_777_215, null, UnaryOperator.identity(), behind);
    }

    private static Slapd start(long maxIncomingBytes, TestCertificates certificates, UnaryOperator<String> schemaEdit) {
        return start(maxIncomingBytes, certificates, schemaEdit, Duration.ZERO);
    }

    private static Slapd start(long maxIncomingBytes, TestCertificates certificates, UnaryOperator<String> schemaEdit, Duration clockBehind) {
        try {
            Slapd slapd = new Slapd(Files.createTempDirectory("slapd"), maxIncomingBytes, certificates);
            slapd.schemaEdit = schemaEdit;
            slapd.clockBehind = clockBehind;
            slapd.configure(true);
            slapd.launch();
            slapd.applyShipped("mailstore.database.ldif");
            return slapd;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up slapd", e);
        }
    }

    /**
     * {@code count} providers of one directory in multi-provider syncrepl, each replicating from
     * every other (as the root DN, retrying every second). The first holds the initial entries;
     * the others receive them by replication. A change on any provider reaches all.
     */
    public static List<Slapd> startProviders(int count) {
        try {
            List<Slapd> providers = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                providers.add(new Slapd(Files.createTempDirectory("slapd"), 16_777_215, null));
            }
            for (int i = 0; i < count; i++) {
                Slapd provider = providers.get(i);
                provider.serverId = i + 1;
                provider.peers = providers.stream().filter(p -> p != provider).toList();
            }
            for (int i = 0; i < count; i++) {
                Slapd provider = providers.get(i);
                provider.configure(i == 0);
                provider.launch();
                provider.applyShipped("mailstore.database.ldif");
            }
            return List.copyOf(providers);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up the slapd providers", e);
        }
    }

    /** The contextCSN values of the suffix: equal on two providers once they have replicated everything. */
    public List<String> contextCsn() {
        try (LDAPConnection root = rootConnection()) {
            return List.of(root.getEntry(SUFFIX, "contextCSN").getAttributeValues("contextCSN")).stream().sorted().toList();
        } catch (LDAPException e) {
            throw new IllegalStateException("cannot read the contextCSN of " + url(), e);
        }
    }

    /** Every stored message with the {@code attributes} asked for ("*", "+", names, or "1.1" for none), read as the root DN. */
    public List<SearchResultEntry> messages(String... attributes) {
        try (LDAPConnection root = rootConnection()) {
            return root.search(new SearchRequest(SUFFIX, SearchScope.SUB, "(objectClass=mailStoreMessage)", attributes))
                    .getSearchEntries();
        } catch (LDAPException e) {
            throw new IllegalStateException("cannot read the messages of " + url(), e);
        }
    }

    /** When the provider that made a change wrote it: the time in its entryCSN, to the microsecond, on this machine's clock. */
    public static Instant csnTime(String entryCsn) {
        return LocalDateTime.parse(entryCsn.substring(0, 21), CSN_TIME).toInstant(ZoneOffset.UTC);
    }

    public String url() {
        return "ldap://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public String ldapsUrl() {
        return "ldaps://127.0.0.1:" + ldapsPort;
    }

    /** A connection bound as the directory's root DN, which no access rule limits. */
    public LDAPConnection rootConnection() {
        return connection(ROOT_DN, ROOT_PASSWORD);
    }

    public LDAPConnection connection(String bindDn, String password) {
        try {
            return new LDAPConnection("127.0.0.1", port, bindDn, password);
        } catch (LDAPException e) {
            throw new IllegalStateException("cannot bind to slapd as " + bindDn, e);
        }
    }

    /** Adds {@code uid=NAME,ou=people} owning NAME@example.com, with password NAME-secret. */
    public void addMailbox(String name) {
        try (LDAPConnection root = rootConnection()) {
            root.add("dn: uid=" + name + "," + PEOPLE, "objectClass: inetOrgPerson", "uid: " + name, "cn: " + name, "sn: " + name,
                    "mail: " + name + "@example.com", "userPassword: " + name + "-secret");
        } catch (LDAPException | com.unboundid.ldif.LDIFException e) {
            throw new IllegalStateException("cannot add mailbox " + name, e);
        }
    }

    /**
     * SIGTERM to slapd's pid (SIGKILL after 30 s, see {@link ManagedProcess#stop}); returns once it
     * has ended. slapd removes its pid file as the last step of a clean stop, so one left behind by
     * a slapd that has ended means it was killed or died on its way out, which is said, with its
     * exit status and log, before the file is removed: a restart would find it and refuse. (Seen
     * three times in one day here, Debian's slapd 2.5.13 at the end of a test, each time failing
     * the test on the file while what it proved had passed.)
     */
    public void stop() {
        process.stop(Duration.ofSeconds(30));
        Path pidFile = directory.resolve("slapd.pid");
        if (Files.exists(pidFile)) {
            System.err.println(process + " ended with exit status " + process.exitStatus() + " and left its pid file behind:\n"
                    + process.logTail());
            try {
                Files.delete(pidFile);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot remove the pid file " + pidFile, e);
            }
        }
        process = null;
    }

    /** SIGKILL to slapd's pid: a crash. */
    public void kill() {
        process.kill();
        process = null;
    }

    /** SIGSTOP to slapd's pid: it answers nothing and closes nothing, as a host that lost power. */
    public void pause() {
        process.pause();
    }

    /** SIGCONT after {@link #pause()}. */
    public void resume() {
        process.resume();
    }

    /** Starts slapd again on the same port and data. */
    public void restart() {
        launch();
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        if (process != null) {
            stop();
        }
        Chores.deleteRecursively(directory);
    }

    private void configure(boolean withInitialEntries) throws IOException {
        Path schema = directory.resolve("mailstore.cnconfig.ldif");
        copyResource(SCHEMA_RESOURCE, schema);
        Files.writeString(schema, schemaEdit.apply(Files.readString(schema)));
        Files.createDirectories(directory.resolve("slapd.d"));
        Files.createDirectories(directory.resolve("data"));
        // No log, as Debian's own configuration (slapd.init.ldif) has it: at slapd's default level
        // (stats) every operation writes three or four lines to syslog, which cost this slapd a
        // third of its CPU in an mbsync pull (connecting to a /dev/log that is not there, each line).
        String config = """
                dn: cn=config
                objectClass: olcGlobal
                cn: config
                olcPidFile: %1$s/slapd.pid
                olcLogLevel: none
                olcServerID: %9$d
                olcSockbufMaxIncomingAuth: %3$d%7$s

                dn: cn=module{0},cn=config
                objectClass: olcModuleList
                cn: module{0}
                olcModulePath: /usr/lib/ldap
                olcModuleLoad: back_mdb
                olcModuleLoad: syncprov

                dn: cn=schema,cn=config
                objectClass: olcSchemaConfig
                cn: schema

                include: file:///etc/ldap/schema/core.ldif
                include: file:///etc/ldap/schema/cosine.ldif
                include: file:///etc/ldap/schema/nis.ldif
                include: file:///etc/ldap/schema/inetorgperson.ldif
                %2$s

                dn: olcDatabase={-1}frontend,cn=config
                objectClass: olcDatabaseConfig
                objectClass: olcFrontendConfig
                olcDatabase: {-1}frontend

                dn: olcDatabase={0}config,cn=config
                objectClass: olcDatabaseConfig
                olcDatabase: {0}config
                olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * none

                dn: olcDatabase={1}mdb,cn=config
                objectClass: olcDatabaseConfig
                objectClass: olcMdbConfig
                olcDatabase: {1}mdb
                olcSuffix: %4$s
                olcRootDN: %5$s
                olcRootPW: %6$s
                olcDbDirectory: %1$s/data
                olcDbMaxSize: 4294967296%8$s

                dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config
                objectClass: olcOverlayConfig
                objectClass: olcSyncProvConfig
                olcOverlay: {0}syncprov
                olcSpCheckpoint: 100 10
                olcSpSessionLog: 10000
                """.formatted(directory, projectSchema ? "include: file://" + schema : "", maxIncomingBytes, SUFFIX, ROOT_DN, ROOT_PASSWORD, tlsSettings(), replicationSettings(), serverId);
        Files.writeString(directory.resolve("config.ldif"), config);
        loadConfigAndEntries(withInitialEntries);
    }

    /** slapadd of config.ldif, and of the initial entries when {@code withInitialEntries}. */
    private void loadConfigAndEntries(boolean withInitialEntries) throws IOException {
        String base = """
                dn: %1$s
                objectClass: dcObject
                objectClass: organization
                dc: example
                o: example

                dn: %2$s
                objectClass: organizationalUnit
                ou: people

                dn: %3$s
                objectClass: applicationProcess
                objectClass: simpleSecurityObject
                cn: store-worker
                userPassword: %4$s

                dn: %5$s
                objectClass: applicationProcess
                objectClass: simpleSecurityObject
                cn: postfix
                userPassword: %6$s
                """.formatted(SUFFIX, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, LOOKUP_DN, LOOKUP_PASSWORD);
        Files.writeString(directory.resolve("base.ldif"), base);
        run(List.of("slapadd", "-n0", "-F", directory.resolve("slapd.d").toString(), "-l", directory.resolve("config.ldif").toString()));
        if (withInitialEntries) {
            run(List.of("slapadd", "-q", "-n1", "-F", directory.resolve("slapd.d").toString(), "-l", directory.resolve("base.ldif").toString()));
        }
    }

    private String replicationSettings() {
        if (peers.isEmpty()) {
            return "";
        }
        StringBuilder settings = new StringBuilder();
        for (Slapd peer : peers) {
            settings.append(String.format("%nolcSyncrepl: rid=%03d provider=%s bindmethod=simple binddn=\"%s\" credentials=%s "
                    + "searchbase=\"%s\" type=refreshAndPersist retry=\"1 +\" timeout=3", peer.serverId, peer.url(), ROOT_DN,
                    ROOT_PASSWORD, SUFFIX));
        }
        return settings + "\nolcMultiProvider: TRUE";
    }

    private String tlsSettings() {
        if (certificates == null) {
            return "";
        }
        return "\nolcTLSCACertificateFile: " + certificates.authority() + "\nolcTLSCertificateFile: " + certificates.serverCertificate()
                + "\nolcTLSCertificateKeyFile: " + certificates.serverKey();
    }

    /**
     * Applies one of the LDIFs the project ships beside its schema (mailstore.durability-log.ldif,
     * say) the way its header tells an operator to: placeholders replaced, ldapmodify -Y EXTERNAL.
     */
    public void applyShipped(String ldif) {
        applyShipped(ldif, UnaryOperator.identity());
    }

    /** Applies {@code ldif} as {@code edit} makes it: the rules of an earlier release, say. */
    public void applyShipped(String ldif, UnaryOperator<String> edit) {
        try (InputStream in = Slapd.class.getResourceAsStream(SHIPPED + ldif)) {
            if (in == null) {
                throw new IllegalStateException(SHIPPED + ldif + " is not on the class path");
            }
            modifyConfig(edit.apply(new String(in.readAllBytes(), StandardCharsets.UTF_8)).replace("@DATABASE@", "{1}mdb")
                    .replace("@PEOPLE@", PEOPLE).replace("@SERVICE@", SERVICE_DN).replace("@LOOKUP@", LOOKUP_DN));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Applies {@code ldif} (changetype records) to the running slapd's cn=config as root over ldapi. */
    public void modifyConfig(String ldif) {
        run(List.of("ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", ldapiUrl()), ldif.getBytes(StandardCharsets.UTF_8));
    }

    /** A consistent copy of the live database, made by mdb_copy into the empty directory {@code target}: what a checkpoint leaves on disk. */
    public void copyDatabaseTo(Path target) {
        run(List.of("mdb_copy", directory.resolve("data").toString(), target.toString()), new byte[0]);
    }

    /** Puts the copy in {@code copy} in place of the database of this stopped slapd: a power loss that kept only that much. */
    public void replaceDatabaseWith(Path copy) {
        if (process != null) {
            throw new IllegalStateException("slapd on port " + port + " is running");
        }
        try {
            Files.copy(copy.resolve("data.mdb"), directory.resolve("data/data.mdb"), StandardCopyOption.REPLACE_EXISTING);
            Files.deleteIfExists(directory.resolve("data/lock.mdb"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The mailStoreId of every message this stopped slapd's database holds, read by slapcat. */
    public Set<String> messageIdsOnDisk() {
        if (process != null) {
            throw new IllegalStateException("slapd on port " + port + " is running");
        }
        Command.Result result = Command.of(List.of("slapcat", "-F", directory.resolve("slapd.d").toString(), "-n", "1",
                "-a", "(objectClass=mailStoreMessage)")).run(new byte[0], Duration.ofSeconds(120));
        if (result.exitCode() != 0) {
            throw new IllegalStateException("slapcat failed:\n" + result);
        }
        return result.stdout().lines().filter(line -> line.startsWith("mailStoreId: "))
                .map(line -> line.substring("mailStoreId: ".length())).collect(Collectors.toSet());
    }

    private void launch() {
        String listeners = url() + "/ " + (certificates == null ? "" : ldapsUrl() + "/ ") + ldapiUrl();
        List<String> argv = new ArrayList<>();
        if (!clockBehind.isZero()) {
            // env execs slapd, so that the pid stopped is slapd's; the library for threaded programs.
            argv.addAll(List.of("env", "LD_PRELOAD=" + FAKETIME_LIBRARY, "FAKETIME=-" + clockBehind.toSeconds() + "s"));
        }
        argv.addAll(List.of("slapd", "-d", "0", "-F", directory.resolve("slapd.d").toString(), "-h", listeners));
        process = ManagedProcess.start("slapd on port " + port + " (if its log is empty, run slapd -d 1 -F "
                        + directory.resolve("slapd.d") + " to see why it stopped)", argv, directory.resolve("slapd.log"));
        // slapd opens its listeners one after another: ready once the last, ldapi, takes a connection too,
        // or the set-up that follows over ldapi may find nobody there.
        process.awaitReady(Duration.ofSeconds(30), () -> FreePort.isListening(port) && acceptsOnLdapi());
    }

    private boolean acceptsOnLdapi() {
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(directory.resolve("ldapi")))) {
            return true;
        } catch (IOException notYet) {
            return false;
        }
    }

    private String ldapiUrl() {
        return "ldapi://" + URLEncoder.encode(directory.resolve("ldapi").toString(), StandardCharsets.UTF_8);
    }

    private void run(List<String> argv) {
        run(argv, new byte[0]);
    }

    private void run(List<String> argv, byte[] input) {
        Command.Result result = Command.of(argv).run(input, Duration.ofSeconds(60));
        if (result.exitCode() != 0) {
            throw new IllegalStateException("slapd set-up failed:\n" + result);
        }
    }

    private static void copyResource(String resource, Path file) throws IOException {
        try (InputStream in = Slapd.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is not on the class path");
            }
            Files.copy(in, file);
        }
    }
}
