package org.mailstream.store;

import java.io.PrintStream;
import java.util.List;
import org.apache.commons.cli.Option;
import org.mailstream.config.CommandDeclaration;

/**
 * store-worker route: which back end each address belongs to, by the routing of the
 * configuration, the rule every worker and replay applies. It asks nobody: no broker, no
 * directory.
 */
final class RouteCommand {

    private static final Option ADDRESSES = CommandDeclaration.option("a", null, "ADDRESS ...", "the addresses to route");

    static final CommandDeclaration ROUTE = WorkerExit.declareOn(new CommandDeclaration("store-worker route",
            "tell which back end an address belongs to", """
            Prints, one line an address, the back end whose workers store its mail, as every
            worker and replay decides it from routing.backends, routing.pins and
            recipient.delimiter: its mailbox (the address without its extension, lower-cased),
            then the back end it is pinned to, or else the back end of the highest rendezvous
            score. Run it with the configuration of any back end's workers: they route alike.
            With one back end (routing.backends empty) every address is its. It connects to
            nothing.

            """).configurationFile(StoreConfig.DEFAULT_PATH).required(ADDRESSES), WorkerExit.Program.ROUTE);

    private RouteCommand() {
    }

    static int run(String[] args, PrintStream out) {
        return ROUTE.run(args, ROUTE.sysexits(out), command -> List.of(command.getOptionValues(ADDRESSES)), StoreConfig::load,
                (addresses, config) -> {
                    for (String address : addresses) {
                        String backend = config.routing().ownerOf(address);
                        out.println(address + ": " + (backend == null ? "the only back end" : "back end " + backend)
                                + (config.routing().isPinned(address) ? " (pinned)" : ""));
                    }
                    return WorkerExit.ROUTED.code();
                });
    }
}
