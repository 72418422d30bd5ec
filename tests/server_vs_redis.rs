//! The same commands sent to keg's server and to a real redis-server must get the same
//! bytes back (run where redis-server is installed; skipped with a note elsewhere).
//! Commands whose replies depend on time or on ids are left out, and so is the documented
//! difference (one database). `server_vs_redis_random.rs` compares generated commands.

mod redis_server;
mod server_support;

use redis_server::RedisServer;
use server_support::{Raw, TestServer, commandstats_without_times, error_counts};

/// One command per line, words separated by spaces; `''` is an empty argument and
/// `<sp>` a space inside one.
const CORPUS: &str = "
set a 1
set a 1 nx
set a 2 xx get
set a 2 nx get
set a 3 ex 10 px 100
set a 3 ex 10 ex 20
set a 3 keepttl ex 10
set a 3 ex 0
set a 3 ex -1
set a 3 ex abc
set a 3 foo
set a 3 exat 1
get a
set a 3 pxat 99999999999999
pexpiretime a
set n 10
incr n
incrby n abc
incrby n 9223372036854775807
decrby n -9223372036854775808
incr a2
set f 1.5
incrbyfloat f 0.1
incrbyfloat f abc
incrbyfloat f 1e400
set s hello
getrange s 0 -1
getrange s -3 -1
getrange s 10 20
getrange s -1 -5
getrange nokey 0 1
setrange s 10 x
get s
setrange s -1 x
setrange s2 0 ''
strlen s
append s zzz
mset a
mset a 1 b
msetnx a 1 q 2
msetnx q 1 r 2
mget a q r nokey
getset q new
getdel q
getdel q
getex s
getex s ex 100
getex s persist
getex s ex 10 persist
getex nokey ex 10
setex k 0 v
setex k abc v
setex k 10 v
psetex k 100 v
setnx k v
exists a a nokey
del a nokey
type s
type nokey
rename nokey x
rename s s2
get s2
renamenx s2 k
renamenx s2 s3
expire s3 100 nx xx
expire s3 100 gt lt
expire s3 100 foo
expire s3 100 xx
expire s3 100 nx
expire s3 50 gt
expire s3 50 lt
expire s3 abc
expire s3 9223372036854775807
pexpire s3 9223372036854775807
persist s3
persist s3
pttl nokey
expiretime nokey
expire s3 -1
exists s3
select 0
select 1
select abc
ping
ping hello
ping a b
echo
echo hi
auth foo
auth a b c
hello 4
hello abc
hello 2 foo
client setname a<sp>b
client setname myname
client getname
client nosuch
client setname
client kill 1.2.3.4:5
client kill id 0
multi
multi
set t 1
get
exec
multi
set t x
incr t
get t
exec
exec
discard
watch
multi
watch a
discard
scan abc
scan 0 count 0
scan 0 foo
scan 0 count
keys nomatch*
dbsize
flushdb foo
config set foo bar
pubsub numsub a b
pubsub numpat
pubsub foo
unsubscribe
punsubscribe
command count x
time x
lastsave x
hset h f v
hset h f v2 g w
hset h f
hmset h
hget h f
hget h nope
hget nohash f
hmget h f nope g
hsetnx h f x
hsetnx h new x
hexists h f
hexists h zz
hlen h
hlen nohash
hstrlen h f
hincrby h n 5
hincrby h n -7
hincrby h f 1
hincrby h n x
hincrby h n 9223372036854775807
hincrbyfloat h fl 1.5
hincrbyfloat h fl 0.1
hincrbyfloat h f 1
hincrbyfloat h fl abc
hdel h f g nope
hdel nohash f
type h
get h
incr h
append h x
hmset h a 1
hgetall nohash
hkeys nohash
del h
hset one k v
hgetall one
hkeys one
hvals one
sadd s a b a
sadd s b c
srem s a zz
scard s
sismember s b
sismember s a
smismember s a b c
smismember s
scard noset
smembers noset
type s
hget s f
sadd one x
set one plain
sadd one x
srem s b c
exists s
type s
sadd s only
smembers s
rename s s2
type s2
smembers s2
scan 0 type set
scan 0 type hash
del s2 one
rpush l a b c
lpush l z y
llen l
lrange l 0 -1
lrange l -2 100
lrange l 5 1
lindex l 0
lindex l -1
lindex l 99
lindex l x
lset l 1 Z
lset l 99 x
lset nolist 0 x
lrange l 0 -1
linsert l before b B
linsert l after c C
linsert l before nope x
linsert l middle b x
linsert nolist before a b
lrange l 0 -1
rpush l b b
lrem l 2 b
lrem l -1 b
lrem l 0 nope
lpos l C
lpos l nope
lpos l c rank -1
lpos l c rank 0
lpos l c count 0
lpos l c count -1
lpos l c maxlen -1
lpos l c rank x
lrange l 0 -1
lpop l
rpop l
lpop l 2
rpop l 0
lpop nolist
lpop nolist 2
lpop l -1
lpop l 1 2
lpushx nolist a
rpushx l tail
ltrim l 1 -2
lrange l 0 -1
rpoplpush l l2
lmove l l2 left right
lmove l l2 up down
lrange l2 0 -1
type l2
lmove nolist l2 left left
set str x
lpush str a
lmove l2 str left left
lmove nolist str left left
rpoplpush nolist str
rpush rot v
expire rot 100
lmove rot rot left right
persist rot
del rot
rpush l3 one
rpop l3
exists l3
del l l2 str
zadd z 1 a 2 b 3 c
zadd z 1.5 a
zadd z ch 10 a 20 new
zadd z nx 100 a
zadd z xx 7 nope
zadd z gt 5 b
zadd z lt 5 b
zadd z gt ch 0.1 c
zadd z nx xx 1 a
zadd z gt lt 1 a
zadd z nx gt 1 a
zadd z incr 2 a 3 b
zadd z incr 2.5 a
zadd z nx incr 1 a
zadd z 1 a 2
zadd z x a
zadd z
zadd z inf inf -inf minf
zscore z a
zscore z inf
zscore z minf
zscore z nope
zscore noz a
zmscore z a nope b
zcard z
zcard noz
zincrby z 0.1 c
zincrby z x c
zincrby z -inf inf
zrange z 0 -1
zrange z 0 -1 withscores
zrange z 1 2 rev
zrange z (1 10 byscore
zrange z 10 (1 byscore rev withscores
zrange z (1 10 byscore limit 1 1
zrange z 0 -1 limit 0 1
zrange z - + bylex withscores
zrange z x 1
zrange z 0 1 foo
zrangebyscore z -inf +inf withscores
zrangebyscore z (2 inf limit 0 2
zrangebyscore z a b
zrevrangebyscore z +inf -inf limit 1 2
zrevrange z 0 1 withscores
zrank z a
zrank z nope
zrevrank z a
zcount z -inf +inf
zcount z (1 5
zcount z x y
zadd lex 0 a 0 b 0 c 0 d
zrangebylex lex [b +
zrangebylex lex (a [c limit 0 1
zrevrangebylex lex + -
zrangebylex lex a b
zlexcount lex - +
zlexcount lex [b (d
zremrangebylex lex [a [b
zrange lex 0 -1
zrangestore dst z 0 1
zrange dst 0 -1 withscores
zrangestore dst z (1 +inf byscore limit 0 1
zrange dst 0 -1
zpopmin z
zpopmax z 2
zpopmin z 0
zpopmin z -1
zpopmin noz
zpopmin noz 3
zremrangebyrank z 0 0
zremrangebyscore z -inf (10
zrange z 0 -1 withscores
zrem z nope
type z
get z
zadd str 1 a
set str x
zadd str 1 a
zscore str a
rename z z2
zrange z2 0 -1 withscores
del z2 lex dst str
zadd z1 1 a 2 b 3 c
zadd z2 0 a 5 b inf d
sadd s1 a x
zadd zi 1 a inf b -inf c 0 d
zadd zj 1 a -inf b inf c 2 d
zadd zk 5 b 5 a
zunion 2 z1 z2
zunion 2 z1 z2 withscores
zunion 2 z1 z2 WITHSCORES withscores
zunion 1 z1 weights -1 withscores
zunion 1 z1 weights -0 withscores
zunion 1 zi weights 0 withscores
zunion 2 zi zj withscores
zunion 2 zi zj aggregate min withscores
zunion 2 zi zj aggregate MAX withscores
zunion 2 z1 z2 weights 2 0.5 aggregate sum withscores
zunion 2 z1 s1 withscores
zunion 2 s1 s1 withscores
zunion 3 z1 nokey s1 weights 1 2 3 withscores
zunion 1 zk withscores
zunion 1 nokey withscores
zunion 1 z1 weights inf withscores
zunion 1 z1 weights 0x10 withscores
zinter 2 z1 z2 withscores
zinter 2 zi zj weights 0 1 aggregate min withscores
zinter 2 zi zj weights 0 1 aggregate max withscores
zinter 2 zi zj weights 0 1 withscores
zinter 2 zi zj weights 1 0 withscores
zinter 2 z1 s1 withscores
zinter 2 z1 nokey
zinter 1 z1 aggregate sum aggregate max withscores
zinter 1 z1 weights 2 weights 3 withscores
zdiff 2 z1 z2 withscores
zdiff 2 z1 s1 withscores
zdiff 2 s1 z1 withscores
zdiff 2 z1 z1
zdiff 1 nokey
zintercard 2 z1 z2
zintercard 2 z1 z2 limit 1
zintercard 2 z1 z2 limit 0
zintercard 3 z1 z2 s1
zintercard 2 z1 nokey
zunion 0 z1
zunion -1 z1
zunion x z1
zunion 3 z1 z2
zunion 1 z1 weights
zunion 2 z1 z2 weights 1
zunion 1 z1 weights x
zunion 1 z1 weights nan
zunion 1 z1 weights 1e400
zunion 1 z1 weights <sp>1
zunion 1 z1 aggregate
zunion 1 z1 aggregate foo
zunion 1 z1 foo
zinter 0 z1
zdiff 0 z1
zdiff 1 z1 weights 1
zdiff 1 z1 aggregate min
zintercard 0 z1
zintercard 3 z1
zintercard x z1
zintercard 2 z1 z2 limit -1
zintercard 2 z1 z2 limit x
zintercard 2 z1 z2 limit
zintercard 1 z1 withscores
zunionstore d 0 z1
zinterstore d 0 z1
zdiffstore d 0 z1
zunionstore d 3 z1
zunionstore d 1 z1 withscores
zunionstore d 2 z1 z2 weights 1 2 aggregate max
zrange d 0 -1 withscores
zunionstore d 1 z1 weights -0
zrange d 0 -1 withscores
zinterstore d 2 z1 s1
zrange d 0 -1 withscores
zdiffstore d 2 z1 z2
zrange d 0 -1 withscores
zdiffstore d 2 z1 z1
exists d
zunionstore d 1 z1
zinterstore d 2 z1 nokey
exists d
set str x
zunion 1 str weights x
zunion 2 z1 str
zunion 3 z1 str
zinter 2 nokey str
zdiff 2 z1 str
zintercard 2 z1 str
zunionstore d 2 z1 str
zunionstore str 1 z1
type str
zrange str 0 -1 withscores
rpush lst a
zunion 1 lst
del lst
zinterstore z1 2 z1 z2
zrange z1 0 -1 withscores
zunionstore z2 2 z2 z2
zrange z2 0 -1 withscores
del z1 z2 s1 zi zj zk d str
zadd wz 1 a
watch wd
zunionstore wd 1 wz
multi
ping
exec
watch wz
zunionstore wd 1 wz
multi
ping
exec
sadd wsa a b
sadd wsb b c
watch wsa
sinterstore wsd wsa wsb
multi
ping
exec
watch wsb
sunionstore wsd wsa wsb
multi
ping
exec
watch wsa
sdiffstore wsd wsa wsb
multi
ping
exec
watch wz
zrangestore wzd wz 0 -1
multi
ping
exec
watch wsd
sinterstore wsd wsa wsb
multi
ping
exec
del wsa wsb wsd wzd
watch wn
del wn
srem wn a
lpop wn
expire wn 10
multi
ping
exec
set wk v
sadd ws a
rpush wl a b
watch wk ws wl
set wk v nx
persist wk
getex wk persist
sadd ws a
srem ws zz
smove ws ws a
lrem wl 0 zz
zremrangebyscore wl 5 6
multi
ping
exec
watch wl
ltrim wl 0 -1
multi
ping
exec
rpush wr a
watch wr
lmove wr wr left right
multi
ping
exec
watch wn
set wn 1
del wn
multi
ping
exec
watch wk
set wk v
multi
ping
exec
watch ws
sadd ws b
multi
ping
exec
del wk ws wl wr
multi
zunionstore wd 1 wz weights 2
zinter 2 wd wz withscores
zintercard x wd
zdiffstore wd 2 wz wd
exec
exists wd
del wz wd
sadd one only
srandmember one
srandmember one 5
srandmember one -3
srandmember one 0
srandmember noset
srandmember noset 3
srandmember one x
spop one 0
spop noset
spop noset 2
spop one -1
spop one
exists one
sadd one again
spop one 3
hset h1 f v
hrandfield h1
hrandfield h1 3
hrandfield h1 -2 withvalues
hrandfield h1 1 foo
hrandfield noh
hrandfield noh 2
del h1
sadd sa a b c
sadd sb b c d
sadd sc c
sinter sa sb sc
sinter sa nosuch
sdiff sc sa
sdiff sa sb sc
sunion sc nosuch
sinterstore dst sa sb sc
smembers dst
sdiffstore dst sa sb
smembers dst
sdiffstore dst sc sa
exists dst
sunionstore dst sc
sintercard 2 sa sb
sintercard 2 sa sb limit 1
sintercard 0 sa
sintercard 5 sa
sintercard 1 sa limit -1
sintercard 1 sa foo
smove sa sc a
smove sa sc nope
smove nosuch sc a
sismember sc a
set str x
smove sc str c
smove nosuch str c
sadd rots m
expire rots 100
smove rots rots m
persist rots
del rots
sinter sa str
sinterstore str sa
type str
smove sc sc c
del sa sb sc dst str
hset hs f1 v1 f2 v2 x3 v3
hscan hs 0
hscan hs 0 match f* count 10
hscan hs 0 count 0
hscan hs abc
hscan hs 7
hscan hs 18446744073709551615 count 1
hscan hs 18446744073709551616
hscan hs -1
hscan hs -
hscan hs +3 count 1
hscan nohash 0
hscan nohash 0 count 0
hscan nohash x
set scanstr x
hscan scanstr 0 count 0
sscan scanstr 0 match
zscan scanstr 0
del scanstr
sadd ss only
sscan ss 0 match o*
sscan ss 0 match z*
sadd si 1 2 3
sscan si 9 count 1
zadd zs 2 b 1 a 3 c
zscan zs 0
zscan zs 0 match [ab]
zscan zs 5 count 1
zscan zs 0 foo bar
del hs ss si zs
rpush bl a b
blpop nolist bl 0
brpop bl 0
blpop bl 0.01
brpop nolist 0.01
blpop bl x
blpop bl -1
blpop bl 1e300
rpush bl c
blmove bl bl2 left right 0
blmove bl bl2 up right 0
blmove nolist bl2 left right 0.01
brpoplpush bl2 bl 0
brpoplpush nolist bl 0.01
zadd bz 1 a 2 b
bzpopmin bz 0
bzpopmax bz 0
bzpopmin bz 0.01
set str x
blpop str 0
bzpopmin str 0
multi
blpop nolist 0
brpop nolist 10
exec
del bl bl2 str
multi
set mx 1
rpush ml a
flushdb
get mx
lrange ml 0 -1
set my 2
exec
get mx
get my
flushdb
dbsize
rpush rl a b c
set rs 1.5
mget rs rl nokey
lindex rl abc
lindex nokey abc
lindex rs abc
lset rl abc x
lset nokey abc x
lset rs abc x
incrbyfloat rl abc
incrbyfloat nokey abc
getex rl ex abc
getex nokey ex abc
getex rs ex abc
sadd rt a b
sintercard abc rt
sintercard 0 rt
sintercard 1 rt limit abc
sintercard 1 rt limit -1
spop rt abc
spop rt -1
lpop rl abc
zadd rz 1 a 2 b 3 c
zpopmin rz abc
zpopmin rz -1
zpopmin rz 1 extra
zpopmax rz 1 2
zrange rz 0 -1 limit 1 -1
zrange rz 0 abc limit 0 -1
zrange rz 0 -1 limit 0 1
zrange rz 0 -1 byscore byscore
zrange rz 0 -1 rev rev
zrange rz (1 +inf byscore bylex
zrevrange rz 0 -1 limit 0 1
zrevrange rz 0 -1 rev
zrangebyscore rz 0 10 rev
zrangebyscore rz 0 10 byscore
zrangebylex rz - + withscores
zrangebylex rz - + limit 0 1 withscores
zrangestore rzd rz 0 -1 withscores
zrangestore rzd rz 0 -1 withscores limit abc 1
multi
del rs
set rn 1
dbsize
keys rn
keys rs
exec
multi
rpush rl2 x
flushdb
dbsize
exec
set re 1 pxat 99999999999600
expiretime re
pexpiretime re
set re 1 pxat 99999999999400
expiretime re
hincrbyfloat rl f inf
hincrbyfloat nokey f -inf
hincrbyfloat rh f +infinity
hset rh f 1
hincrbyfloat rh f 1e308
hincrbyfloat rh f 1e308
hincrbyfloat rh f 0x10
zadd rz0 -0 a
zscore rz0 a
zadd rz0 incr -0 b
zincrby rz0 -0 c
zincrby rz0 -0 a
zrange rz0 0 -1 withscores
zadd rz1 1.5 a
zrandmember rz1
zrandmember rz1 5
zrandmember rz1 5 withscores
zrandmember rz1 -3 withscores
zrandmember rz1 0
zrandmember rz1 abc
zrandmember rz1 abc foo
zrandmember rz1 1 foo
zrandmember rz1 1 withscores extra
zrandmember rz1 -9223372036854775808
zrandmember rz1 9223372036854775807 withscores
zrandmember rz1 -4611686018427387904 withscores
zrandmember nokey
zrandmember nokey 3
zrandmember rl
zrandmember rl 3
hset rh1 f v
hrandfield rh1 abc foo
hrandfield rh1 -9223372036854775808
hrandfield rh1 -2 withvalues
srandmember rt -9223372036854775808
multi
auth secret
auth a b c
get rs
exec
flushdb
set gone 1
multi
set only 1
del gone
randomkey
del only
randomkey
exec
pubsub channels a b
pubsub shardchannels
pubsub shardnumsub a b
command getkeys
command getkeys get
command getkeys get k
command getkeys nosuch a
command getkeys ping x
command getkeys mset a 1 b 2
command getkeys zunionstore d 2 a b
command getkeys zunion 2 a b withscores
command getkeys zunion 3 a b
command getkeys zintercard abc a
command getkeys sintercard 2 a b limit 1
command getkeys blpop a b 0
command getkeys set k v ex 10
command list filterby module x
command list filterby nosuch x
command list filterby pattern
command list x
command list filterby pattern zrangestore
command list filterby pattern client|id
command list filterby pattern pubsub|shard*sub
command list filterby pattern slowlog|l?n
command list filterby aclcat nosuch
memory
memory usage
memory usage never_set_key
memory usage never_set_key samples 0
memory usage never_set_key samples -1
memory usage never_set_key samples x
memory usage never_set_key samples
memory usage never_set_key bad 1
memory nosuch
memory usage a b c d e
client trackinginfo
client trackinginfo x
client getredir
client caching yes
client caching maybe
client tracking
client tracking off
client tracking off prefix a bcast
client tracking off optin optout noloop
client tracking off redirect
client tracking off redirect abc
client tracking off prefix
client tracking off nosuch
client tracking maybe
client tracking on prefix a
client tracking on optin optout
client tracking on bcast optout
client tracking on redirect 999999
client tracking on redirect -1
client tracking on bcast prefix ab prefix abc
client tracking on bcast prefix ab prefix ab
client caching yes
client tracking on
client caching yes
client caching no
client trackinginfo
client getredir
client tracking on bcast
client tracking on optin
client caching yes
client trackinginfo
client tracking on optout
client tracking on optin noloop
client trackinginfo
client tracking off
client trackinginfo
client tracking on bcast
client tracking on bcast prefix x
client trackinginfo
client tracking off
client tracking on bcast prefix a prefix b
client tracking on bcast prefix c
client tracking on bcast prefix bb
client trackinginfo
client tracking off
replicaof no one
slaveof NO ONE
replicaof no
replicaof localhost abc
replicaof localhost 70000
multi
replicaof no one
exec
multi
command nosuch
exec
multi
command count x
exec
multi
pubsub numpat x
exec
multi
pubsub nosuch
exec
multi
pubsub channels a b
command getkeys get k
exec
pubsub numpat x
pubsub help x
command count x
command getkeys get
command help x
multi
command help x
exec
multi
client setname wx
set cm 1
client getname
get cm
config get nosuchparam
exec
client getname
client setname ''
multi
client help x
exec
multi
config nosuch
exec
multi
client nosuch
exec
multi
config set
exec
multi
config set a b c
exec
config set a b c
set sc1 1
multi
set sc2 2
scan 0 count 1000 match sc2
del sc1
scan 0 count 1000 match sc1
scan 0 count 1000 match sc* type string
exec
del sc2
set wf 1
watch wf wn
flushdb
multi
ping
exec
watch wn
flushdb
multi
ping
exec
copy nokey dst
set cs1 hello
copy cs1 cs1
copy cs1 cs1 replace
copy cs1 cs2
get cs2
copy cs1 cs2
set cs1 again
copy cs1 cs2 replace
get cs2
copy cs1 cs2 db 0 replace
copy cs1 cs3 db 1
copy cs1 cs3 db x
copy cs1 cs3 db
copy cs1 cs3 bogus
copy cs1
set ce v exat 4000000000
copy ce ce2
expiretime ce2
rpush cl a b c
copy cl cl2
lrange cl2 0 -1
hset ch f 1 g 2
copy ch ch2
hget ch2 g
hlen ch2
sadd cset x y
copy cset cs2 replace
type cs2
scard cs2
sismember cs2 y
zadd cz 1 a 2 b
expire cz 100000
copy cz cz2
zrange cz2 0 -1 withscores
ttl cz2
copy cl ch
copy cl ch replace
type ch
lrange ch 0 -1
rpush cl d
lrange ch 0 -1
touch cs1 cl nokey cs1
touch
move cs1 0
move cs1 1
move cs1 x
move nokey 0
move cs1
del cs1 cs2 cs3 ce ce2 cl cl2 ch ch2 cset cz cz2
wait 0 0
wait -1 100
wait 0 -1
wait x 0
wait 0 x
wait 0 1.5
wait 1 20
wait
multi
wait 1 0
wait x 0
exec
sort nokey
sort nokey store sdst
exists sdst
rpush sl 3 1 2 10 -1.5 1e2 2
sort sl
sort sl desc
sort sl limit 1 3
sort sl limit 0 -1
sort sl limit -5 2
sort sl limit 20 5
sort sl limit 2 0
sort sl limit x 1
sort sl limit 1
sort sl alpha
sort sl alpha desc limit 0 3
sort sl by nosort
sort sl by nosort desc limit 1 2
sort sl bogus
sort_ro sl desc
sort_ro sl store x
rpush sw 1 banana 2
sort sw
sort sw alpha
rpush ss ''
sort ss
rpush sn <sp>7 7<sp> 0x10 inf -inf
sort sn
mset w_3 30 w_1 10 w_2 20 w_10 5 w_-1.5 100
sort sl by w_*
sort sl by w_* desc
sort sl by w_* get # get w_*
sort sl by w_* get nokey_* get #
sort sl by nosort get w_*
sort sl get w_* get noglob
hset h_1 f one g 9
hset h_2 f two g 8
hset h_3 f three g 7
rpush hl 1 2 3
sort hl by h_*->g
sort hl by h_*->g get h_*->f
sort hl by h_*->g get h_*->f get h_*-> get h_*
sort hl by h_* get #
sort hl by h_*->g alpha get h_*->f
sort hl by h_*->nofield get #
sadd sset 5 3 9 1
sort sset
sort sset desc limit 0 2
sort sset alpha
sort sset by nosort store sdst2
lrange sdst2 0 -1
zadd sz 1 c 2 a 3 b
sort sz alpha
sort sz by nosort
sort sz by nosort limit 1 1
sort sz by nosort desc
sort sz
sort sl store sdst
lrange sdst 0 -1
type sdst
set sdst x
sort sl limit 0 2 get w_* get nokey_* store sdst
lrange sdst 0 -1
sort nokey store sdst
exists sdst
set sstr v
sort sstr
sort sstr limit x 1
hset shash f v
sort shash
multi
sort sl limit 0 2
sort sl store sdst3
lrange sdst3 0 -1
exec
del sl sw ss sn w_3 w_1 w_2 w_10 w_-1.5 h_1 h_2 h_3 hl sset sdst2 sz sdst sstr shash sdst3
setbit b1 7 1
setbit b1 7 1
setbit b1 7 0
setbit b1 100 1
get b1
strlen b1
getbit b1 100
getbit b1 101
getbit b1 99999999
getbit nokey 5
setbit b1 -1 1
setbit b1 x 1
setbit b1 1 2
setbit b1 1 -1
setbit b1 4294967296 1
setbit b1 4294967295 x
getbit b1 4294967296
set b2 foobar
bitcount b2
bitcount b2 0 0
bitcount b2 1 1
bitcount b2 1 1 byte
bitcount b2 5 30 bit
bitcount b2 -2 -1
bitcount b2 -1 -2
bitcount b2 -100 100
bitcount b2 1
bitcount b2 0 1 bits
bitcount b2 x 1
bitcount nokey x y
bitcount nokey 0
bitcount b2 0 -1 bit
bitcount b2 7 7 bit
bitcount b2 7 16 bit
bitpos b2 1
bitpos b2 0
bitpos b2 1 2
bitpos b2 1 2 -1 byte
bitpos b2 0 7 15 bit
bitpos b2 1 7 15 bit
bitpos b2 1 9 9 bit
bitpos b2 0 -1
bitpos b2 2
bitpos b2 x
bitpos nokey 1
bitpos nokey 0
bitpos b2 1 x
bitpos b2 1 0 -1 bogus
set b3 <sp><sp><sp>
bitpos b3 1
bitpos b3 0
set bff2 ÿÿ
bitpos bff2 0
bitpos bff2 0 0 -1
bitpos bff2 0 0
bitpos bff2 0 1 0
set bz ''
bitpos bz 0
bitpos bz 1
bitcount bz
set bo1 abc
set bo2 xyzw
bitop and bdst bo1 bo2
get bdst
bitop or bdst bo1 bo2 nokey
get bdst
bitop xor bdst bo1 bo2 bo1
get bdst
bitop not bdst bo1
strlen bdst
bitop not bdst bo1 bo2
bitop nand bdst bo1
bitop and bdst nokey nokey2
exists bdst
set bdst x ex 1000
bitop or bdst bo1
ttl bdst
rpush blist a
bitop or bdst blist
getbit blist 0
setbit blist 0 1
bitcount blist
bitfield bf set i8 0 100 get i8 0 incrby i8 0 100 get u4 0
bitfield bf overflow sat incrby i8 0 100 incrby u2 100 7 overflow fail incrby i8 0 1 get i8 0
bitfield bf set u8 #1 255 get u8 #1 get u16 0 get i16 0 incrby u8 #1 1
bitfield bf overflow wrap set i5 3 31 get i5 3 set u3 9 -1 get u3 9
bitfield bf set i64 0 -9223372036854775808 incrby i64 0 -1 overflow sat incrby i64 0 -1
bitfield bf get u63 0 get i64 0 get u8 #1000
bitfield bf set u64 0 1
bitfield bf set i65 0 1
bitfield bf set x8 0 1
bitfield bf set I8 0 1
bitfield bf set u0 0 1
bitfield bf get u8
bitfield bf get u8 -1
bitfield bf get u8 x
bitfield bf set u8 0 x
bitfield bf overflow bogus get u8 0
bitfield bf bogus
bitfield bf
bitfield bf overflow fail
bitfield newbf overflow fail set u2 0 5
exists newbf
get newbf
bitfield nokey get u8 0 get i5 100
exists nokey
bitfield_ro bf get u8 0 get i16 #1
bitfield_ro bf set u8 0 1
bitfield_ro nokey get u8 0
bitfield blist get u8 0
bitfield_ro blist get u8 0
set bexp v ex 1000
setbit bexp 100 1
ttl bexp
bitfield bexp set u8 #20 1
ttl bexp
multi
setbit bm 3 1
getbit bm 3
bitcount bm
bitfield bm incrby u8 0 1
exec
del b1 b2 b3 bff2 bz bo1 bo2 bdst blist bf newbf bexp bm
pfadd hlc
get hlc
pfadd hlc a
get hlc
del hlc
pfadd hl1
pfcount hl1
get hl1
strlen hl1
pfadd hl1
pfadd hl1 a b c d e f g
pfadd hl1 a b
pfcount hl1
pfcount hl1
pfadd hl2 c d e x y z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20
pfcount hl2
pfcount hl1 hl2
pfcount hl1 hl2 nokey
pfcount nokey
pfmerge hl3 hl1 hl2
pfcount hl3
pfmerge hl3
pfcount hl3
pfmerge hl1 hl2
pfcount hl1
pfmerge hl4
pfcount hl4
get hl4
exists hl4
set hls notanhll
pfadd hls a
pfcount hls
pfcount hl1 hls
pfmerge hl1 hls
pfmerge hls hl1
rpush hll a
pfadd hll a
pfcount hll
pfmerge hl1 hll
set hlbad HYLLx
pfcount hlbad
pfadd hlnum 1
set hlnum 12345678901234567890
pfadd hlnum x
pfadd hlttl a
expire hlttl 1000
pfadd hlttl b
ttl hlttl
pfcount hlttl
ttl hlttl
pfmerge hlttl hl2
ttl hlttl
multi
pfadd hlm a b c
pfcount hlm
pfmerge hlm2 hlm hl2
pfcount hlm2
exec
del hl1 hl2 hl3 hl4 hls hll hlbad hlnum hlttl hlm hlm2
lmpop 1 nol left
rpush ml1 a b c d e
rpush ml2 x y
lmpop 2 nol ml1 left
lmpop 2 nol ml1 right count 2
lmpop 2 ml1 ml2 left count 10
lmpop 2 ml1 ml2 left count 10
lmpop 2 ml1 ml2 left count 10
lmpop 0 ml1 left
lmpop -1 ml1 left
lmpop x ml1 left
lmpop 3 ml1 left
lmpop 1 ml1 middle
lmpop 1 ml1 left count 0
lmpop 1 ml1 left count -1
lmpop 1 ml1 left count x
lmpop 1 ml1 left count 1 count 1
lmpop 1 ml1 left bogus
lmpop 1 ml1 left count
set mstr v
rpush ml3 q
lmpop 2 mstr ml3 left
lmpop 2 ml3 mstr left
lmpop 2 nol2 ml3 left
zadd mz1 1 a 2 b 3 c
zadd mz2 5 x
zmpop 1 noz min
zmpop 2 noz mz1 min
zmpop 2 noz mz1 max count 5
zmpop 2 mz1 mz2 max count 5
zmpop 1 mz2 middle
zmpop 0 mz2 min
zmpop 2 mstr mz2 min
zmpop 1 mz2 min count 0
blmpop 0.01 1 nol left
blmpop 0.01 1 nol left count 2
rpush ml4 a b c
blmpop 0 2 nol ml4 right count 2
blmpop x 1 ml4 left
blmpop -1 1 ml4 left
blmpop 0 0 ml4 left
blmpop 0 1 ml4 up
blmpop 0 1 mstr left
zadd mz3 1 a 2 b
bzmpop 0 1 mz3 max count 5
bzmpop 0.01 1 mz3 min
bzmpop x 1 mz3 min
bzmpop 0 1 mz3 sideways
multi
lmpop 1 ml4 left
blmpop 0 1 ml4 left
blmpop 0 1 nol left
bzmpop 0 1 noz min
blmpop 0 0 nol left
exec
del ml1 ml2 ml3 ml4 mstr mz1 mz2 mz3
geoadd sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
geoadd sicily 13.361389 38.115556 Palermo
geoadd sicily ch 13.361390 38.115556 Palermo
geoadd sicily nx 13.5 38.1 Palermo 13.583333 37.316667 Agrigento
geoadd sicily xx ch 13.5 38.1 Palermo 1 1 Nowhere
geoadd sicily nx xx 1 1 x
geoadd sicily 1 1
geoadd sicily 1 1 a 2
geoadd sicily 181 1 bad
geoadd sicily 1 85.06 bad
geoadd sicily -180 -85.05112878 corner
geoadd sicily 180 85.05112878 corner2
geoadd sicily x 1 bad
geoadd sicily 1 nan bad
geoadd sicily 0 0 zero
geoadd sicily -0.000001 -0.000001 negzero
zrange sicily 0 -1 withscores
geopos sicily Palermo Catania Nowhere Agrigento corner corner2 zero negzero
geopos sicily
geopos nogeo a b
geodist sicily Palermo Catania
geodist sicily Palermo Catania km
geodist sicily Palermo Catania KM
geodist sicily Palermo Catania mi
geodist sicily Palermo Catania ft
geodist sicily Palermo Catania furlong
geodist sicily Palermo Nowhere
geodist sicily Palermo Palermo
geodist sicily corner corner2
geodist sicily zero negzero
geodist sicily Palermo Catania km extra
geodist nogeo a b
geohash sicily Palermo Catania Nowhere corner corner2 zero negzero
geohash nogeo a
geohash sicily
set geostr v
geoadd geostr 1 1 a
geopos geostr a
geodist geostr a b
geohash geostr a
del sicily geostr
geoadd gs 13.361389 38.115556 Palermo 15.087269 37.502669 Catania 12.758489 38.788135 edge1 17.241510 38.222123 edge2 13.583333 37.316667 Agrigento
geosearch gs frommember Palermo byradius 200 km asc
geosearch gs frommember Palermo byradius 200 km desc withdist
geosearch gs fromlonlat 15 37 byradius 200 km asc withdist withhash withcoord
geosearch gs fromlonlat 15 37 byradius 200 km withcoord withdist asc count 2
geosearch gs fromlonlat 15 37 byradius 200 km count 1
geosearch gs fromlonlat 15 37 byradius 200 km count 10 any asc
geosearch gs fromlonlat 15 37 bybox 400 400 km asc withdist
geosearch gs fromlonlat 15 37 bybox 40 400 km asc withdist
geosearch gs fromlonlat 15 37 bybox 400 40 mi desc
geosearch gs fromlonlat 15 37 byradius 120 mi asc
geosearch gs fromlonlat 15 37 byradius 120000 m asc withdist
geosearch gs fromlonlat 15 37 byradius 400000 ft asc withdist
geosearch gs fromlonlat 15 37 byradius 1 m
geosearch gs frommember Catania byradius 0 km withdist
geosearch gs frommember nomember byradius 1 km
geosearch nogs frommember nomember byradius 1 km
geosearch gs frommember Palermo byradius -1 km
geosearch gs frommember nomember byradius -1 km
geosearch gs frommember Palermo byradius x km
geosearch gs frommember Palermo byradius 1 yd
geosearch gs frommember Palermo bybox x 1 km
geosearch gs frommember Palermo bybox 1 x km
geosearch gs frommember Palermo bybox -1 1 km
geosearch gs frommember Palermo bybox 1 1
geosearch gs byradius 1 km asc
geosearch gs frommember Palermo asc desc
geosearch gs frommember Palermo fromlonlat 1 1 byradius 1 km
geosearch gs frommember Palermo byradius 1 km bybox 1 1 km
geosearch gs frommember Palermo byradius 200 km count 0
geosearch gs frommember Palermo byradius 200 km count x
geosearch gs frommember Palermo byradius 200 km any
geosearch gs frommember Palermo byradius 200 km store x
geosearch gs fromlonlat 200 37 byradius 1 km
geosearch gs fromlonlat x 37 byradius 1 km
geosearchstore gd gs frommember Palermo byradius 200 km withdist
geosearchstore gd gs frommember Palermo byradius 200 km asc storedist
zrange gd 0 -1 withscores
geosearchstore gd gs frommember Palermo byradius 200 km count 2 asc
zrange gd 0 -1 withscores
geosearchstore gd gs fromlonlat 0 0 byradius 1 km
exists gd
geosearchstore gd nogs fromlonlat 0 0 byradius 1 km
georadius gs 15 37 200 km withdist asc
georadius gs 15 37 200 km asc count 2 store gd2
zrange gd2 0 -1 withscores
georadius gs 15 37 200 km desc storedist gd2
zrange gd2 0 -1 withscores
georadius gs 15 37 200 km withdist store gd2
georadius_ro gs 15 37 200 km store gd2
georadius_ro gs 15 37 200 km asc withhash
georadius gs 15 37 -1 km
georadius gs 200 37 1 km
georadius gs 15 37 1 km bogus
georadiusbymember gs Palermo 200 km withdist desc
georadiusbymember gs nomember 200 km
georadiusbymember nogs nomember 200 km
georadiusbymember nogs nomember 200 km store gd3
georadiusbymember_ro gs Agrigento 100 km asc withcoord
georadius nogs 15 37 200 km store gd3
set gstr v
georadius gstr 1 1 1 km
geosearch gstr frommember x byradius 1 km
geosearchstore gd gstr frommember x byradius 1 km
del gs gd gd2 gd3 gstr
mset lk1 ohmytext lk2 mynewtext
lcs lk1 lk2
lcs lk1 lk2 len
lcs lk1 lk2 idx
lcs lk1 lk2 idx minmatchlen 4
lcs lk1 lk2 idx minmatchlen 4 withmatchlen
lcs lk1 lk2 idx withmatchlen
lcs lk1 lk2 idx minmatchlen -3
lcs lk1 lk2 idx minmatchlen x
lcs lk1 lk2 idx minmatchlen
lcs lk1 lk2 len idx
lcs lk1 lk2 bogus
lcs lk1 nokey
lcs nokey nokey2 idx
lcs nokey nokey2 len
mset lk3 abcabcabc lk4 cbacbacba
lcs lk3 lk4
lcs lk3 lk4 idx withmatchlen
lcs lk4 lk3 idx
mset lk5 aaaa lk6 aa
lcs lk5 lk6 idx withmatchlen
lcs lk6 lk5 idx withmatchlen
mset lk7 xyz lk8 abc
lcs lk7 lk8 idx
lcs lk7 lk8
rpush lkl a
lcs lk1 lkl
lcs lkl lk1 len
del lk1 lk2 lk3 lk4 lk5 lk6 lk7 lk8 lkl
flushall
multi
info keyspace
set info:a 1
info keyspace
set info:b 1
del info:a
info keyspace
exec
info keyspace
eval return(redis.call('info','keyspace')) 0
eval redis.call('del','info:b');return(redis.call('info','keyspace')) 0
eval_ro return(redis.call('info','keyspace')) 0
eval redis.setresp(3);return(redis.call('info','keyspace')) 0
config get maxmemory-policy
config set maxmemory-policy foo
config set maxmemory-policy noeviction
config get notify-keyspace-events
config set notify-keyspace-events ''
role
info cluster
info modules
cluster info
cluster slots
cluster keyslot a
cluster
cluster nosuch
cluster info extra
readonly
readwrite
asking
readonly extra
swapdb 0 0
swapdb a 0
swapdb 0 b
swapdb 0
client no-evict on
client no-evict off
client no-evict maybe
client no-evict
";

#[test]
fn replies_match_a_real_redis_server_byte_for_byte() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let keg = TestServer::start();
    let mut theirs = Raw::connect(format!("127.0.0.1:{}", redis.port).parse().unwrap());
    let mut ours = keg.raw();
    let mut differences = Vec::new();
    for line in CORPUS.lines().filter(|l| !l.trim().is_empty()) {
        let args: Vec<String> = line
            .split(' ')
            .map(|w| {
                if w == "''" {
                    String::new()
                } else {
                    w.replace("<sp>", " ")
                }
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let want = theirs.call(&args);
        let got = ours.call(&args);
        if want != got {
            differences.push(format!("{line}\n  redis: {want:?}\n  keg:   {got:?}"));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// CLIENT UNBLOCK through a blocked connection's life: its errors, a pop ended as a
/// timeout (the default and `TIMEOUT`) or with `UNBLOCKED` (`ERROR`), from a connection
/// on another event loop and from one on the same loop, a connection that is not waiting
/// (0), RESP3's null, and BLPOP inside MULTI (never blocks). Returns every reply in order.
fn unblock_scenario(addr: std::net::SocketAddr) -> Vec<String> {
    let mut blocked = Raw::connect(addr);
    let mut other_loop = Raw::connect(addr);
    let mut same_loop = Raw::connect(addr);
    let id = blocked.call(&["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim_end();
    let mut replies = Vec::new();
    for args in [
        vec!["CLIENT", "UNBLOCK", id],
        vec!["CLIENT", "UNBLOCK", "abc"],
        vec!["CLIENT", "UNBLOCK", id, "foo"],
        vec!["CLIENT", "UNBLOCK", "999999"],
        vec!["CLIENT", "UNBLOCK", id, "timeout", "x"],
        vec!["CLIENT", "UNBLOCK"],
    ] {
        replies.push(other_loop.call(&args));
    }
    let wait_until_blocked = |c: &mut Raw| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !c.call(&["CLIENT", "LIST", "ID", id]).contains("flags=b") {
            assert!(std::time::Instant::now() < deadline, "never blocked");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    let waits: [(&[&str], &str, bool); 4] = [
        (&["BLPOP", "nolist", "0"], "TIMEOUT", false),
        (&["BRPOP", "nolist", "0"], "ERROR", false),
        (
            &["BLMOVE", "nolist", "x", "LEFT", "RIGHT", "0"],
            "timeout",
            true,
        ),
        (&["BZPOPMIN", "nolist", "0"], "ERROR", true),
    ];
    for (pop, how, from_same_loop) in waits {
        blocked.command(pop);
        let unblocker = if from_same_loop {
            &mut same_loop
        } else {
            &mut other_loop
        };
        wait_until_blocked(unblocker);
        replies.push(unblocker.call(&["CLIENT", "UNBLOCK", id, how]));
        replies.push(String::from_utf8_lossy(&blocked.reply()).into_owned());
        replies.push(unblocker.call(&["CLIENT", "UNBLOCK", id]));
    }
    blocked.call(&["HELLO", "3"]);
    blocked.command(&["BLPOP", "nolist", "0"]);
    wait_until_blocked(&mut other_loop);
    replies.push(other_loop.call(&["CLIENT", "UNBLOCK", id]));
    replies.push(String::from_utf8_lossy(&blocked.reply()).into_owned());
    blocked.call(&["MULTI"]);
    blocked.call(&["BLPOP", "nolist", "0"]);
    replies.push(blocked.call(&["EXEC"]));
    replies
}

#[test]
fn client_unblock_ends_a_waiting_pop_as_redis_does() {
    // Two event loops: connections go to them in turn, so `blocked` and `same_loop` share
    // one and `other_loop` is on the other. A blocked pop is retried every minute only:
    // an UNBLOCK from the other loop must wake the pop's loop (else a read times out).
    let keg = TestServer::with(
        keg::server::ServerConfig::default()
            .event_loops(2)
            .blocked_retry(std::time::Duration::from_secs(60)),
        keg::SyncPolicy::Never,
    );
    let expected = [
        ":0\r\n",
        "-ERR value is not an integer or out of range\r\n",
        "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n",
        ":0\r\n",
        "-ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.\r\n",
        "-ERR wrong number of arguments for 'client|unblock' command\r\n",
        ":1\r\n",
        "*-1\r\n",
        ":0\r\n",
        ":1\r\n",
        "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n",
        ":0\r\n",
        ":1\r\n",
        "*-1\r\n",
        ":0\r\n",
        ":1\r\n",
        "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n",
        ":0\r\n",
        ":1\r\n",
        "_\r\n",
        "*1\r\n_\r\n",
    ];
    same_on_keg_and_redis(keg.addr, &expected, unblock_scenario);
}

/// `scenario` run against keg (at `ours`) returns `expected`, and run against
/// redis-server (where installed) the same.
fn same_on_keg_and_redis(
    ours: std::net::SocketAddr,
    expected: &[&str],
    scenario: fn(std::net::SocketAddr) -> Vec<String>,
) {
    assert_eq!(scenario(ours), expected);
    if let Some(redis) = RedisServer::start() {
        let theirs = scenario(format!("127.0.0.1:{}", redis.port).parse().unwrap());
        assert_eq!(theirs, expected, "redis-server");
    }
}

/// INFO commandstats after a mix of calls: counted, failed (an error reply, inside EXEC
/// and scripts too; a script's reply with nested errors once, plus once per error its
/// commands had counted already) and rejected (wrong argument count, refused in MULTI or in subscribed
/// mode) per command and per subcommand, an unknown subcommand not counted, CONFIG
/// RESETSTAT starting over. Returns the `cmdstat_` lines sorted, times masked.
fn commandstats_scenario(addr: std::net::SocketAddr) -> Vec<String> {
    let mut c = Raw::connect(addr);
    c.call(&["FLUSHALL"]);
    c.call(&["CONFIG", "RESETSTAT"]);
    let calls: &[&[&str]] = &[
        &["SET", "a", "1"],
        &["GET", "a"],
        &["GET"],
        &["INCR", "a"],
        &["LPUSH", "a", "x"],
        &["CLIENT", "ID"],
        &["CLIENT", "GETNAME", "x"],
        &["CLIENT", "NOSUCH"],
        &["CLIENT"],
        &["MULTI"],
        &["SET", "b", "2"],
        &["GET"],
        &["EXEC"],
        &["MULTI"],
        &["INCR", "b"],
        &["LPUSH", "b", "x"],
        &["EXEC"],
        &[
            "EVAL",
            "redis.call('set','c','1'); return redis.pcall('lpush','c','x')",
            "0",
        ],
        &["EVAL", "return redis.call('lpush','c','x')", "0"],
        &["EVAL", "return {1, {err='X y'}}", "0"],
        &[
            "EVAL",
            "return {redis.pcall('lpush','a','x'), {err='X y'}}",
            "0",
        ],
        &[
            "EVAL",
            "return {redis.pcall('lpush','a','x'), redis.pcall('lpush','a','x')}",
            "0",
        ],
        &["MULTI"],
        &["EVAL", "return {1, {err='X y'}}", "0"],
        &["EXEC"],
        &["BLPOP", "nolist", "0.01"],
        &["BLPOP", "nolist", "abc"],
        &["RPUSH", "q", "1"],
        &["BLPOP", "q", "0"],
        &["SUBSCRIBE", "ch"],
        &["GET", "a"],
        &["UNSUBSCRIBE"],
        &["DISCARD"],
        &["WATCH"],
        &["SET", "k", "v", "EX", "0"],
    ];
    for args in calls {
        c.command(args);
        c.reply();
    }
    commandstats_without_times(&c.call(&["INFO", "commandstats"]))
}

#[test]
fn commandstats_count_as_redis_does() {
    let keg = TestServer::start();
    let expected = [
        "cmdstat_blpop:calls=3,rejected_calls=0,failed_calls=1",
        "cmdstat_client:calls=0,rejected_calls=1,failed_calls=0",
        "cmdstat_client|getname:calls=0,rejected_calls=1,failed_calls=0",
        "cmdstat_client|id:calls=1,rejected_calls=0,failed_calls=0",
        "cmdstat_config|resetstat:calls=1,rejected_calls=0,failed_calls=0",
        "cmdstat_discard:calls=1,rejected_calls=0,failed_calls=1",
        "cmdstat_eval:calls=6,rejected_calls=0,failed_calls=8",
        "cmdstat_exec:calls=3,rejected_calls=0,failed_calls=1",
        "cmdstat_get:calls=1,rejected_calls=3,failed_calls=0",
        "cmdstat_incr:calls=2,rejected_calls=0,failed_calls=0",
        "cmdstat_lpush:calls=7,rejected_calls=0,failed_calls=7",
        "cmdstat_multi:calls=3,rejected_calls=0,failed_calls=0",
        "cmdstat_rpush:calls=1,rejected_calls=0,failed_calls=0",
        "cmdstat_set:calls=3,rejected_calls=0,failed_calls=1",
        "cmdstat_subscribe:calls=1,rejected_calls=0,failed_calls=0",
        "cmdstat_unsubscribe:calls=1,rejected_calls=0,failed_calls=0",
        "cmdstat_watch:calls=0,rejected_calls=1,failed_calls=0",
    ];
    same_on_keg_and_redis(keg.addr, &expected, commandstats_scenario);
}

/// INFO errorstats and `total_error_replies` after each of a series of cases, as Redis
/// counts: every error a client is sent, under its first word; a script's failed
/// `redis.call` or `redis.pcall` once, where it failed (even if the script catches it), and
/// not again when the script raises or returns that error; a bad argument list to them only
/// if it reaches the client; a script's own error tables under their own code. One line
/// per case: its name, the counts (which CONFIG RESETSTAT then clears) and its last reply.
fn errorstats_scenario(addr: std::net::SocketAddr) -> Vec<String> {
    let mut c = Raw::connect(addr);
    c.call(&["FLUSHALL"]);
    c.call(&["SET", "s", "abc"]);
    c.call(&["CONFIG", "RESETSTAT"]);
    let eval = |script: &'static str| -> Vec<&'static str> { vec!["EVAL", script, "0"] };
    let cases: Vec<(&str, Vec<Vec<&str>>)> = vec![
        (
            "unknown, arity, wrong type",
            vec![vec!["NOSUCH"], vec!["GET"], vec!["LPOP", "s"]],
        ),
        (
            "queueing error",
            vec![vec!["MULTI"], vec!["NOSUCH"], vec!["EXEC"]],
        ),
        (
            "errors inside EXEC",
            vec![
                vec!["MULTI"],
                vec!["INCR", "s"],
                vec!["LPOP", "s"],
                vec!["EXEC"],
            ],
        ),
        ("call raised", vec![eval("return redis.call('incr','s')")]),
        (
            "pcall returned",
            vec![eval("return redis.pcall('incr','s')")],
        ),
        (
            "pcall swallowed",
            vec![eval("redis.pcall('incr','s'); return 1")],
        ),
        (
            "pcall table fields",
            vec![eval(
                "local e = redis.pcall('incr','s'); local n = 0 \
                 for _ in pairs(e) do n = n + 1 end \
                 return {tostring(e.ignore_error_stats_update), n}",
            )],
        ),
        (
            "script codes",
            vec![
                eval("return {err='MYCODE custom'}"),
                eval("return redis.error_reply('OOPS x')"),
                eval("error('plain')"),
                eval("return {err='nospace'}"),
                eval("return {err='-ERR dash'}"),
                eval("return {err='lower case'}"),
            ],
        ),
        (
            "server codes",
            vec![
                vec!["EVALSHA", "0123456789012345678901234567890123456789", "0"],
                vec!["FCALL", "nosuch", "0"],
                vec!["SCRIPT", "KILL"],
                vec!["HELLO", "4"],
                vec!["AUTH", "x"],
            ],
        ),
        (
            "caught, then raised or returned",
            vec![
                eval("local e = redis.pcall('incr','s'); return {err = e.err}"),
                eval("local ok, e = pcall(redis.call, 'incr', 's'); error(e)"),
                eval("local ok, e = pcall(redis.call, 'incr', 's'); return e"),
                eval("redis.pcall('incr','s'); return redis.call('lpop','s')"),
            ],
        ),
        (
            "marked by the script",
            vec![
                eval("return {err='X y', ignore_error_stats_update=true}"),
                eval("return {err='X y', ignore_error_stats_update=1}"),
                eval("error({err='X y', ignore_error_stats_update=true})"),
                eval("error({err='X y'})"),
            ],
        ),
        (
            "refused calls",
            vec![
                eval("return redis.call('nosuch')"),
                eval("redis.pcall('nosuch'); return 1"),
                eval("pcall(redis.call, 'nosuch'); return 1"),
                eval("redis.pcall('get'); return 1"),
                vec!["EVAL_RO", "redis.pcall('set','a','b'); return 1", "0"],
                eval("redis.pcall('blpop','a', 0); return 1"),
                eval("return redis.acl_check_cmd('nosuch')"),
            ],
        ),
        (
            "bad argument lists",
            vec![
                eval("redis.pcall(); return 1"),
                eval("return redis.pcall()"),
                eval("redis.pcall({}); return 1"),
                eval("return redis.pcall({})"),
            ],
        ),
        (
            "nested in a reply",
            vec![
                eval("return {1, {err='X y'}}"),
                eval("return {1, redis.pcall('incr','s')}"),
            ],
        ),
        (
            "CONFIG run after EXEC's commit",
            vec![
                vec!["MULTI"],
                vec!["CONFIG", "SET", "nosuch", "1"],
                vec!["CONFIG", "GET", "maxmemory"],
                vec!["EXEC"],
            ],
        ),
        (
            "script in MULTI",
            vec![
                vec!["MULTI"],
                eval("return redis.call('incr','s')"),
                vec!["EXEC"],
            ],
        ),
        (
            "subscribed mode",
            vec![
                vec!["SUBSCRIBE", "ch"],
                vec!["GET", "s"],
                vec!["UNSUBSCRIBE"],
            ],
        ),
    ];
    let mut lines = Vec::new();
    for (name, commands) in cases {
        let mut last = Vec::new();
        for args in &commands {
            c.command(args);
            last = c.reply();
        }
        let counts = error_counts(&c.call(&["INFO", "errorstats", "stats"]));
        let last = String::from_utf8_lossy(&last).escape_debug().to_string();
        lines.push(format!("{name}: {} (last reply {last})", counts.join(" ")));
        c.call(&["CONFIG", "RESETSTAT"]);
    }
    lines
}

#[test]
fn errorstats_count_as_redis_does() {
    let keg = TestServer::start();
    let expected = [
        "unknown, arity, wrong type: total_error_replies:3 errorstat_ERR:count=2 errorstat_WRONGTYPE:count=1 (last reply -WRONGTYPE Operation against a key holding the wrong kind of value\\r\\n)",
        "queueing error: total_error_replies:2 errorstat_ERR:count=1 errorstat_EXECABORT:count=1 (last reply -EXECABORT Transaction discarded because of previous errors.\\r\\n)",
        "errors inside EXEC: total_error_replies:2 errorstat_ERR:count=1 errorstat_WRONGTYPE:count=1 (last reply *2\\r\\n-ERR value is not an integer or out of range\\r\\n-WRONGTYPE Operation against a key holding the wrong kind of value\\r\\n)",
        "call raised: total_error_replies:1 errorstat_ERR:count=1 (last reply -ERR value is not an integer or out of range script: c243b9f46db13ba8f69da41b45a77708832babed, on @user_script:1.\\r\\n)",
        "pcall returned: total_error_replies:1 errorstat_ERR:count=1 (last reply -ERR value is not an integer or out of range\\r\\n)",
        "pcall swallowed: total_error_replies:1 errorstat_ERR:count=1 (last reply :1\\r\\n)",
        "pcall table fields: total_error_replies:1 errorstat_ERR:count=1 (last reply *2\\r\\n$4\\r\\ntrue\\r\\n:2\\r\\n)",
        "script codes: total_error_replies:6 errorstat_-ERR:count=1 errorstat_ERR:count=2 errorstat_MYCODE:count=1 errorstat_OOPS:count=1 errorstat_lower:count=1 (last reply -lower case\\r\\n)",
        "server codes: total_error_replies:5 errorstat_ERR:count=2 errorstat_NOPROTO:count=1 errorstat_NOSCRIPT:count=1 errorstat_NOTBUSY:count=1 (last reply -ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\\r\\n)",
        "caught, then raised or returned: total_error_replies:7 errorstat_ERR:count=6 errorstat_WRONGTYPE:count=1 (last reply -WRONGTYPE Operation against a key holding the wrong kind of value script: 43bd643f5fbefe1bc087a1277ec1337a73eb6eed, on @user_script:1.\\r\\n)",
        "marked by the script: total_error_replies:2 errorstat_X:count=2 (last reply -X y script: 4fba4bac04df521d52f90e9091a962514f12c323, on @user_script:1.\\r\\n)",
        "refused calls: total_error_replies:7 errorstat_ERR:count=7 (last reply -ERR Invalid command passed to redis.acl_check_cmd() script: d2491587bab5149c93be0dce4426f7a06ba9e1a1, on @user_script:1.\\r\\n)",
        "bad argument lists: total_error_replies:2 errorstat_ERR:count=2 (last reply -ERR Lua redis lib command arguments must be strings or integers\\r\\n)",
        "nested in a reply: total_error_replies:2 errorstat_ERR:count=1 errorstat_X:count=1 (last reply *2\\r\\n:1\\r\\n-ERR value is not an integer or out of range\\r\\n)",
        "CONFIG run after EXEC's commit: total_error_replies:1 errorstat_ERR:count=1 (last reply *2\\r\\n-ERR Unknown option or number of arguments for CONFIG SET - \\'nosuch\\'\\r\\n*2\\r\\n$9\\r\\nmaxmemory\\r\\n$1\\r\\n0\\r\\n)",
        "script in MULTI: total_error_replies:1 errorstat_ERR:count=1 (last reply *1\\r\\n-ERR value is not an integer or out of range script: c243b9f46db13ba8f69da41b45a77708832babed, on @user_script:1.\\r\\n)",
        "subscribed mode: total_error_replies:1 errorstat_ERR:count=1 (last reply *3\\r\\n$11\\r\\nunsubscribe\\r\\n$2\\r\\nch\\r\\n:0\\r\\n)",
    ];
    same_on_keg_and_redis(keg.addr, &expected, errorstats_scenario);
}

/// Sharded pub/sub (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB SHARDCHANNELS and
/// SHARDNUMSUB) as one Redis node serves it: a namespace of its own (PUBLISH and patterns
/// do not reach it), confirmations counting shard channels alone, `smessage` pushes in
/// RESP2 and RESP3, subscribed mode, refused in EXEC and to a MONITOR connection, served
/// to scripts, ended by RESET; INFO and CLIENT INFO count it. Returns each step's replies.
fn sharded_pubsub_scenario(addr: std::net::SocketAddr) -> Vec<String> {
    let mut a = Raw::connect(addr);
    let mut b = Raw::connect(addr);
    let mut watcher = Raw::connect(addr);
    b.call(&["FLUSHALL"]);
    let mut log = Vec::new();
    // Sends `args` (unless empty) and logs the next `replies` replies.
    fn step(log: &mut Vec<String>, conn: &mut Raw, args: &[&str], replies: usize) {
        if !args.is_empty() {
            conn.command(args);
        }
        let got: Vec<String> = (0..replies)
            .map(|_| String::from_utf8_lossy(&conn.reply()).into_owned())
            .collect();
        log.push(format!("{} -> {}", args.join(" "), got.concat()));
    }
    step(&mut log, &mut a, &["SSUBSCRIBE", "s1", "s2"], 2);
    step(&mut log, &mut a, &["SUBSCRIBE", "c1"], 1);
    step(&mut log, &mut a, &["SSUBSCRIBE", "s3"], 1);
    step(&mut log, &mut b, &["SPUBLISH", "s1", "hello"], 1);
    step(&mut log, &mut a, &[], 1);
    step(&mut log, &mut b, &["PUBLISH", "s1", "x"], 1);
    step(&mut log, &mut b, &["PUBSUB", "SHARDCHANNELS", "s1*"], 1);
    step(&mut log, &mut b, &["PUBSUB", "SHARDNUMSUB", "s1", "zz"], 1);
    step(&mut log, &mut b, &["PUBSUB", "NUMSUB", "s1"], 1);
    step(&mut log, &mut b, &["PUBSUB", "CHANNELS"], 1);
    let info = b.call(&["INFO", "stats"]);
    log.extend(
        info.lines()
            .filter(|l| l.starts_with("pubsub"))
            .map(|l| l.trim_end().to_string()),
    );
    let client = b.call(&["CLIENT", "LIST"]);
    log.extend(client.lines().filter_map(|l| {
        let flags = l.split(' ').find(|f| f.starts_with("flags="))?;
        let ssub = l.split(' ').find(|f| f.starts_with("ssub="))?;
        Some(format!("{flags} {ssub}"))
    }));
    step(&mut log, &mut a, &["GET", "x"], 1);
    step(&mut log, &mut a, &["SPUBLISH", "s1", "x"], 1);
    step(&mut log, &mut a, &["PING"], 1);
    step(&mut log, &mut a, &["SUNSUBSCRIBE", "s1", "nope"], 2);
    step(&mut log, &mut a, &["SUNSUBSCRIBE", "s2", "s3"], 2);
    step(&mut log, &mut a, &["SUNSUBSCRIBE"], 1);
    step(&mut log, &mut a, &["UNSUBSCRIBE"], 1);
    step(&mut log, &mut b, &["SSUBSCRIBE"], 1);
    step(&mut log, &mut b, &["SPUBLISH", "s1"], 1);
    step(&mut log, &mut b, &["MULTI"], 1);
    step(&mut log, &mut b, &["SSUBSCRIBE", "q"], 1);
    step(&mut log, &mut b, &["SPUBLISH", "q", "m"], 1);
    step(&mut log, &mut b, &["EXEC"], 1);
    b.call(&["HELLO", "3"]);
    step(&mut log, &mut b, &["SSUBSCRIBE", "r"], 1);
    step(&mut log, &mut a, &["SPUBLISH", "r", "m3"], 1);
    step(&mut log, &mut b, &[], 1);
    step(&mut log, &mut b, &["GET", "x"], 1);
    step(&mut log, &mut b, &["SUNSUBSCRIBE", "r"], 1);
    step(
        &mut log,
        &mut a,
        &["EVAL", "return redis.call('spublish', 'r', 'm')", "0"],
        1,
    );
    step(
        &mut log,
        &mut a,
        &["COMMAND", "GETKEYS", "SPUBLISH", "ch", "m"],
        1,
    );
    step(&mut log, &mut b, &["SSUBSCRIBE", "z"], 1);
    step(&mut log, &mut b, &["RESET"], 1);
    step(&mut log, &mut a, &["PUBSUB", "SHARDNUMSUB", "z"], 1);
    step(&mut log, &mut watcher, &["MONITOR"], 1);
    step(&mut log, &mut watcher, &["SPUBLISH", "z", "m"], 1);
    log
}

#[test]
fn sharded_pubsub_as_redis_does() {
    let keg = TestServer::start();
    let expected = [
        "SSUBSCRIBE s1 s2 -> *3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n*3\r\n$10\r\nssubscribe\r\n$2\r\ns2\r\n:2\r\n",
        "SUBSCRIBE c1 -> *3\r\n$9\r\nsubscribe\r\n$2\r\nc1\r\n:1\r\n",
        "SSUBSCRIBE s3 -> *3\r\n$10\r\nssubscribe\r\n$2\r\ns3\r\n:3\r\n",
        "SPUBLISH s1 hello -> :1\r\n",
        " -> *3\r\n$8\r\nsmessage\r\n$2\r\ns1\r\n$5\r\nhello\r\n",
        "PUBLISH s1 x -> :0\r\n",
        "PUBSUB SHARDCHANNELS s1* -> *1\r\n$2\r\ns1\r\n",
        "PUBSUB SHARDNUMSUB s1 zz -> *4\r\n$2\r\ns1\r\n:1\r\n$2\r\nzz\r\n:0\r\n",
        "PUBSUB NUMSUB s1 -> *2\r\n$2\r\ns1\r\n:0\r\n",
        "PUBSUB CHANNELS -> *1\r\n$2\r\nc1\r\n",
        "pubsub_channels:1",
        "pubsub_patterns:0",
        "pubsubshard_channels:3",
        "flags=P ssub=3",
        "flags=N ssub=0",
        "flags=N ssub=0",
        "GET x -> -ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
        "SPUBLISH s1 x -> -ERR Can't execute 'spublish': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
        "PING -> *2\r\n$4\r\npong\r\n$0\r\n\r\n",
        "SUNSUBSCRIBE s1 nope -> *3\r\n$12\r\nsunsubscribe\r\n$2\r\ns1\r\n:2\r\n*3\r\n$12\r\nsunsubscribe\r\n$4\r\nnope\r\n:2\r\n",
        "SUNSUBSCRIBE s2 s3 -> *3\r\n$12\r\nsunsubscribe\r\n$2\r\ns2\r\n:1\r\n*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns3\r\n:0\r\n",
        "SUNSUBSCRIBE -> *3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n",
        "UNSUBSCRIBE -> *3\r\n$11\r\nunsubscribe\r\n$2\r\nc1\r\n:0\r\n",
        "SSUBSCRIBE -> -ERR wrong number of arguments for 'ssubscribe' command\r\n",
        "SPUBLISH s1 -> -ERR wrong number of arguments for 'spublish' command\r\n",
        "MULTI -> +OK\r\n",
        "SSUBSCRIBE q -> +QUEUED\r\n",
        "SPUBLISH q m -> +QUEUED\r\n",
        "EXEC -> *2\r\n-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n:0\r\n",
        "SSUBSCRIBE r -> >3\r\n$10\r\nssubscribe\r\n$1\r\nr\r\n:1\r\n",
        "SPUBLISH r m3 -> :1\r\n",
        " -> >3\r\n$8\r\nsmessage\r\n$1\r\nr\r\n$2\r\nm3\r\n",
        "GET x -> _\r\n",
        "SUNSUBSCRIBE r -> >3\r\n$12\r\nsunsubscribe\r\n$1\r\nr\r\n:0\r\n",
        "EVAL return redis.call('spublish', 'r', 'm') 0 -> :0\r\n",
        "COMMAND GETKEYS SPUBLISH ch m -> -ERR The command has no key arguments\r\n",
        "SSUBSCRIBE z -> >3\r\n$10\r\nssubscribe\r\n$1\r\nz\r\n:1\r\n",
        "RESET -> +RESET\r\n",
        "PUBSUB SHARDNUMSUB z -> *2\r\n$1\r\nz\r\n:0\r\n",
        "MONITOR -> +OK\r\n",
        "SPUBLISH z m -> -ERR Replica can't interact with the keyspace\r\n",
    ];
    same_on_keg_and_redis(keg.addr, &expected, sharded_pubsub_scenario);
}

/// COMMAND LIST names container subcommands (`config|get`) after their container, as
/// Redis 7.0 does; the same ones for the containers whose subcommands keg serves in full.
#[test]
fn command_list_names_subcommands_as_redis_does() {
    let keg = TestServer::start();
    let listed = |addr: std::net::SocketAddr, pattern: &str| -> Vec<String> {
        let mut c = Raw::connect(addr);
        c.command(&["COMMAND", "LIST", "FILTERBY", "PATTERN", pattern]);
        let reply = String::from_utf8_lossy(&c.reply()).into_owned();
        let mut names: Vec<String> = (reply.split("\r\n"))
            .filter(|l| !l.is_empty() && !l.starts_with(['*', '$']))
            .map(str::to_string)
            .collect();
        names.sort();
        names
    };
    let patterns = ["config*", "pubsub*", "slowlog*", "function*", "cluster*"];
    let ours: Vec<Vec<String>> = patterns.iter().map(|p| listed(keg.addr, p)).collect();
    assert_eq!(
        ours.first().map(Vec::as_slice),
        Some(
            &[
                "config",
                "config|get",
                "config|help",
                "config|resetstat",
                "config|rewrite",
                "config|set"
            ]
            .map(String::from)[..]
        )
    );
    if let Some(redis) = RedisServer::start() {
        let addr = format!("127.0.0.1:{}", redis.port).parse().unwrap();
        let theirs: Vec<Vec<String>> = patterns.iter().map(|p| listed(addr, p)).collect();
        assert_eq!(ours, theirs);
    }
}

/// CLIENT REPLY ON / OFF / SKIP: OFF and SKIP take effect at once (no reply to themselves),
/// SKIP drops the next command's reply too and is ignored under OFF, ON answers OK; errors
/// and blocking pops are silenced alike; (un)subscription confirmations and messages are
/// pushes and still arrive; RESET turns replies back on. Each group of commands is sent in
/// one write and closed with CLIENT REPLY ON and ECHO end; returns what each group got.
fn client_reply_scenario(addr: std::net::SocketAddr) -> Vec<String> {
    let mut a = Raw::connect(addr);
    let mut b = Raw::connect(addr);
    a.call(&["FLUSHALL"]);
    let groups: &[&[&[&str]]] = &[
        &[
            &["CLIENT", "REPLY", "OFF"],
            &["SET", "k", "1"],
            &["GET", "k"],
            &["NOSUCH"],
            &["GET"],
        ],
        &[&["CLIENT", "REPLY", "SKIP"], &["INCR", "k"], &["GET", "k"]],
        &[
            &["CLIENT", "REPLY", "SKIP"],
            &["CLIENT", "REPLY", "SKIP"],
            &["GET", "k"],
            &["GET", "k"],
        ],
        &[
            &["CLIENT", "REPLY", "SKIP"],
            &["CLIENT", "REPLY", "ON"],
            &["GET", "k"],
        ],
        &[
            &["CLIENT", "REPLY", "OFF"],
            &["CLIENT", "REPLY", "SKIP"],
            &["GET", "k"],
        ],
        &[
            &["CLIENT", "REPLY", "BAD"],
            &["CLIENT", "REPLY"],
            &["CLIENT", "REPLY", "ON", "X"],
        ],
        &[
            &["CLIENT", "REPLY", "OFF"],
            &["MULTI"],
            &["SET", "k", "2"],
            &["EXEC"],
        ],
        &[&["CLIENT", "REPLY", "OFF"], &["BLPOP", "nolist", "0.05"]],
        &[
            &["CLIENT", "REPLY", "SKIP"],
            &["BLPOP", "nolist", "0.05"],
            &["GET", "k"],
        ],
        &[&["CLIENT", "REPLY", "OFF"], &["RESET"], &["GET", "k"]],
        &[
            &["CLIENT", "REPLY", "OFF"],
            &["EVAL", "return redis.call('client','reply','on')", "0"],
        ],
    ];
    let mut log = Vec::new();
    let end = "$3\r\nend\r\n";
    for group in groups {
        let mut bytes = Vec::new();
        for args in group
            .iter()
            .chain([&["CLIENT", "REPLY", "ON"][..], &["ECHO", "end"]].iter())
        {
            bytes.extend(server_support::encode(args));
        }
        a.send(&bytes);
        let mut got = String::new();
        loop {
            let reply = String::from_utf8_lossy(&a.reply()).into_owned();
            if reply == end {
                break;
            }
            got.push_str(&reply);
        }
        let names: Vec<String> = group.iter().map(|c| c.join(" ")).collect();
        log.push(format!("{} -> {got}", names.join(" | ")));
    }
    // Pushes are sent under OFF: the confirmations, and a message.
    a.send(
        &[encode_all(&[
            &["CLIENT", "REPLY", "OFF"],
            &["SUBSCRIBE", "ch"],
        ])]
        .concat(),
    );
    log.push(String::from_utf8_lossy(&a.reply()).into_owned());
    log.push(b.call(&["PUBLISH", "ch", "hi"]));
    log.push(String::from_utf8_lossy(&a.reply()).into_owned());
    a.send(&encode_all(&[&["GET", "k"], &["UNSUBSCRIBE"]]));
    log.push(String::from_utf8_lossy(&a.reply()).into_owned());
    log.push(a.call(&["CLIENT", "REPLY", "ON"]));
    log
}

fn encode_all(commands: &[&[&str]]) -> Vec<u8> {
    commands
        .iter()
        .flat_map(|c| server_support::encode(c))
        .collect()
}

#[test]
fn client_reply_as_redis_does() {
    let keg = TestServer::start();
    let expected = [
        "CLIENT REPLY OFF | SET k 1 | GET k | NOSUCH | GET -> +OK\r\n",
        "CLIENT REPLY SKIP | INCR k | GET k -> $1\r\n2\r\n+OK\r\n",
        "CLIENT REPLY SKIP | CLIENT REPLY SKIP | GET k | GET k -> $1\r\n2\r\n+OK\r\n",
        "CLIENT REPLY SKIP | CLIENT REPLY ON | GET k -> +OK\r\n$1\r\n2\r\n+OK\r\n",
        "CLIENT REPLY OFF | CLIENT REPLY SKIP | GET k -> +OK\r\n",
        "CLIENT REPLY BAD | CLIENT REPLY | CLIENT REPLY ON X -> -ERR syntax error\r\n-ERR wrong number of arguments for 'client|reply' command\r\n-ERR wrong number of arguments for 'client|reply' command\r\n+OK\r\n",
        "CLIENT REPLY OFF | MULTI | SET k 2 | EXEC -> +OK\r\n",
        "CLIENT REPLY OFF | BLPOP nolist 0.05 -> +OK\r\n",
        "CLIENT REPLY SKIP | BLPOP nolist 0.05 | GET k -> $1\r\n2\r\n+OK\r\n",
        "CLIENT REPLY OFF | RESET | GET k -> +RESET\r\n$1\r\n2\r\n+OK\r\n",
        "CLIENT REPLY OFF | EVAL return redis.call('client','reply','on') 0 -> +OK\r\n",
        "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n",
        ":1\r\n",
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
        "*3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n",
        "+OK\r\n",
    ];
    same_on_keg_and_redis(keg.addr, &expected, client_reply_scenario);
}
