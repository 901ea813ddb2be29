#!/usr/bin/perl
# Bad clients against the running jaild (tests/integration/client/abuse.sh drives it).
# Usage: abuse.pl SOCKET JAIL CASE ; prints "ok: ..." or dies with the reason.
use strict;
use warnings;
use IO::Socket::UNIX;
use IO::Select;
use Time::HiRes qw(time);

my ($path, $jail, $case) = @ARGV;
sub connect_ { IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path) or die "connect $path: $!\n" }
# Reads one line within $timeout seconds; undef on EOF, "TIMEOUT" on timeout.
sub read_line {
    my ($s, $timeout) = @_;
    my $sel = IO::Select->new($s);
    my $line = '';
    my $deadline = time + $timeout;
    while (1) {
        my $left = $deadline - time;
        return 'TIMEOUT' if $left <= 0;
        return 'TIMEOUT' unless $sel->can_read($left);
        my $n = sysread($s, my $c, 1);
        return undef if !$n;
        return $line if $c eq "\n";
        $line .= $c;
    }
}
sub rpc {
    my ($s, $text) = @_;
    print $s $text, "\n";
    $s->flush;
    my $answer = read_line($s, 5);
    die "no answer to $text\n" if !defined $answer || $answer eq 'TIMEOUT';
    return $answer;
}
sub expect_code {
    my ($answer, $code, $what) = @_;
    $answer =~ /"code":\Q$code\E[,}]/ or die "$what: expected error code $code, got: $answer\n";
}

if ($case eq 'errors') {
    my $s = connect_();
    expect_code(rpc($s, '{"jsonrpc":"2.0","id":1,"method":'), -32700, 'malformed JSON');
    expect_code(rpc($s, '{"jsonrpc":"2.0","id":2,"method":"frobnicate"}'), -32601, 'unknown method');
    expect_code(rpc($s, '{"jsonrpc":"2.0","id":3,"method":"status","params":{"jail":5}}'), -32602, 'wrong type');
    my $a = rpc($s, '{"jsonrpc":"2.0","id":4,"method":"restart","params":{"jail":"no-such-jail"}}');
    expect_code($a, 3, 'unknown jail');
    $a =~ /\Q$jail\E/ or die "unknown-jail error does not list the jails: $a\n";
    my $ok = rpc($s, '{"jsonrpc":"2.0","id":5,"method":"status"}');
    $ok =~ /"result"/ or die "connection unusable after errors: $ok\n";
    print "ok: parse error, unknown method, bad params and unknown jail answered; connection still usable\n";
} elsif ($case eq 'oversize') {
    my $s = connect_();
    print $s '{"jsonrpc":"2.0","id":1,"method":"status","params":{"pad":"' . ('x' x 70000) . '"}}' . "\n";
    $s->flush;
    my $a = read_line($s, 5);
    die "no answer to an oversized request\n" if !defined $a || $a eq 'TIMEOUT';
    expect_code($a, 5, 'oversized request');
    my $after = read_line($s, 5);
    die "connection not closed after an oversized request: $after\n" if defined $after && $after ne '';
    print "ok: oversized request refused with code 5 and the connection closed\n";
} elsif ($case eq 'idle') {
    my $silent = connect_();
    my $half = connect_();
    print $half '{"jsonrpc":"2.0","id":1,"meth';
    $half->flush;
    my $t0 = time;
    for my $s ($silent, $half) {
        my $r = read_line($s, 30);
        die "idle client not disconnected within 30 s\n" if defined $r && $r eq 'TIMEOUT';
    }
    printf "ok: a silent and a half-line client were disconnected after %.1f s\n", time - $t0;
} elsif ($case eq 'many') {
    my @socks = map { connect_() } 1 .. 300;
    my $i = 0;
    for my $s (@socks) { print $s '{"jsonrpc":"2.0","id":' . ++$i . ',"method":"status"}' . "\n"; $s->flush; }
    my $answered = 0;
    for my $s (@socks) {
        my $a = read_line($s, 20);
        $answered++ if defined $a && $a =~ /"result"/;
    }
    die "only $answered of 300 concurrent clients answered\n" unless $answered == 300;
    print "ok: 300 concurrent connections all answered\n";
} elsif ($case eq 'stalled-follower') {
    # Follow a flooding jail's log and never read; meanwhile another client must be answered.
    my $f = connect_();
    print $f '{"jsonrpc":"2.0","id":1,"method":"logs","params":{"jail":"' . $jail . '","lines":0,"follow":true}}' . "\n";
    $f->flush;
    my $worst = 0;
    for (1 .. 50) {
        my $s = connect_();
        my $t = time;
        rpc($s, '{"jsonrpc":"2.0","id":9,"method":"status"}');
        my $dt = time - $t;
        $worst = $dt if $dt > $worst;
        close $s;
        select(undef, undef, undef, 0.1);
    }
    printf "ok: 50 status calls answered while a follower stalled (slowest %.1f ms)\n", $worst * 1000;
    close $f;
} else {
    die "unknown case $case\n";
}
