#!/usr/bin/perl
# connect_drop.pl SOCKET COUNT: opens COUNT connections to jaild's control socket and drops
# each in one of four ways, in turn: (0) at once, (1) after half a request line, (2) after a
# whole request without reading the answer, (3) after reading the answer. Prints how many
# connections were made and how many answers were read. perl-base only (IO::Socket::UNIX).
use strict;
use warnings;
use IO::Socket::UNIX;

my ($path, $count) = @ARGV;
die "usage: connect_drop.pl SOCKET COUNT\n" unless defined $count;
my $request = qq({"jsonrpc":"2.0","id":1,"method":"status","params":{}}\n);
my ($made, $answers) = (0, 0);
for my $i (1 .. $count) {
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path)
        or die "connection $i to $path failed: $!\n";
    $made++;
    my $mode = $i % 4;
    if ($mode == 1) {
        print $s substr($request, 0, 20);
    } elsif ($mode >= 2) {
        print $s $request;
        if ($mode == 3) {
            my $line = <$s>;
            die "connection $i: no answer\n" unless defined $line && $line =~ /"result"/;
            $answers++;
        }
    }
    close $s;
}
print "connections=$made answers=$answers\n";
