import json, sys, collections
d=json.load(open(sys.argv[1]))
frames=d['shared']['frames']
incl=collections.Counter(); selfc=collections.Counter(); total=0
for p in d['profiles']:
    for stack,w in zip(p['samples'],p['weights']):
        total+=w
        names=set()
        for i in stack:
            f=frames[i]; n=f"{f['name']} ({f.get('file','').split('/')[-1]}:{f.get('line','')})"
            names.add(n)
        for n in names: incl[n]+=w
        if not stack: continue
        f=frames[stack[-1]]; selfc[f"{f['name']} ({f.get('file','').split('/')[-1]})"]+=w
print('total',total)
print('--- inclusive')
for n,c in incl.most_common(45): print(f"{100*c/total:5.1f}% {n}")
print('--- self')
for n,c in selfc.most_common(25): print(f"{100*c/total:5.1f}% {n}")
